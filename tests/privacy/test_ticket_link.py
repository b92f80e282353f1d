"""From a ticket, the service staff open a privacy request for the ticket's customer."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.service.factories import ticket

pytestmark = pytest.mark.django_db

LINK = 'id="ticket-privacy-request"'


@pytest.mark.parametrize("role", ["agent", "team_lead", "admin"])
def test_the_ticket_page_links_to_a_request_form_with_the_customer_filled_in(
    client: Any, make_user: Any, role: str
) -> None:
    t = ticket()
    client.force_login(make_user(role))
    page = client.get(reverse("service:ticket", args=[t.pk])).content.decode()
    href = f"{reverse('privacy:create')}?customer={t.customer_id}"
    assert LINK in page and f'href="{href}"' in page
    form = client.get(href)
    assert form.status_code == 200
    assert form.context["form"]["customer"].value() == str(t.customer_id)
    assert f'value="{t.customer_id}"' in form.content.decode()


def test_roles_that_may_not_open_requests_see_no_link(
    client: Any, partner_agent: Any, partner: Any
) -> None:
    from tests.service.factories import queue

    t = ticket(q=queue("Partner", partner=partner))
    client.force_login(partner_agent)
    page = client.get(reverse("service:ticket", args=[t.pk]))
    assert page.status_code == 200
    assert LINK not in page.content.decode()
    assert client.get(reverse("privacy:create")).status_code == 403


def test_a_ticket_without_a_customer_has_no_link(client: Any, agent: Any) -> None:
    t = ticket(sender_email="fremd@example.de")
    client.force_login(agent)
    assert LINK not in client.get(reverse("service:ticket", args=[t.pk])).content.decode()
