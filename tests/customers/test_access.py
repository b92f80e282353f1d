"""Every customer path answers 404 or 403 to a user who must not see the customer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["no_role_user", "partner_agent"])
def test_user_without_rights_gets_404_on_the_customer_api(who, request, api_as) -> None:
    # given
    customer = CustomerFactory()
    client = api_as(request.getfixturevalue(who))
    # when
    detail = client.get(f"/api/customers/{customer.pk}/")
    patch = client.patch(f"/api/customers/{customer.pk}/", {"last_name": "X"}, format="json")
    listing = client.get("/api/customers/")
    # then
    assert detail.status_code in (403, 404)
    assert patch.status_code in (403, 404)
    assert customer.number not in listing.content.decode()


def test_partner_agent_sees_no_customer_without_tickets_in_its_queues(
    partner_agent, client
) -> None:
    customer = CustomerFactory()
    client.force_login(partner_agent)
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 404
    assert customer.last_name not in response.content.decode()


def test_user_without_role_gets_403_on_the_customer_list(no_role_user, client) -> None:
    CustomerFactory()
    client.force_login(no_role_user)
    assert client.get(reverse("customers:list")).status_code == 403


def test_anonymous_user_is_sent_to_login(client) -> None:
    customer = CustomerFactory()
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_anonymous_api_request_is_refused(client) -> None:
    assert client.get("/api/customers/").status_code in (401, 403)


def test_analyst_may_read_but_not_change_customers(make_user, api_as) -> None:
    customer = CustomerFactory()
    client = api_as(make_user("analyst"))
    assert client.get(f"/api/customers/{customer.pk}/").status_code == 200
    assert (
        client.patch(
            f"/api/customers/{customer.pk}/", {"last_name": "X"}, format="json"
        ).status_code
        == 403
    )


def test_audit_trail_is_shown_to_admins_only(admin, agent, client) -> None:
    customer = CustomerFactory()
    client.force_login(agent)
    assert 'id="audit"' not in client.get(customer.get_absolute_url()).content.decode()
    client.force_login(admin)
    assert 'id="audit"' in client.get(customer.get_absolute_url()).content.decode()
