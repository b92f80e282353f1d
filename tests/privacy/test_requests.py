"""Data subject requests as cases: deadline, identity check, four-eyes erasure, the desk."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Customer
from stammkunde.privacy import selectors, services
from stammkunde.privacy.models import PrivacyRequest
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer() -> Customer:
    return CustomerFactory(first_name="Erika", last_name="Anfrage")


def _open(actor: Any, customer: Customer, kind: str = "access", **kw: Any) -> PrivacyRequest:
    return services.request_open(actor=actor, customer=customer, kind=kind, channel="email", **kw)


def test_a_request_is_due_one_month_after_receipt(agent: Any, customer: Customer) -> None:
    req = _open(agent, customer, received_on=date(2026, 1, 31))
    assert req.due_on == date(2026, 2, 28)
    assert req.number.startswith("DS")
    assert req.handler == agent


def test_deadline_state_warns_a_week_before_and_flags_overdue(
    agent: Any, customer: Customer
) -> None:
    req = _open(agent, customer, received_on=date(2026, 3, 1))
    assert selectors.deadline_state(req, today=date(2026, 3, 20)) == "ok"
    assert selectors.deadline_state(req, today=date(2026, 3, 26)) == "due_soon"
    assert selectors.deadline_state(req, today=date(2026, 4, 2)) == "overdue"


def test_an_extension_needs_a_reason_and_at_most_two_more_months(
    make_user: Any, agent: Any, customer: Customer
) -> None:
    lead = make_user("team_lead")
    req = _open(agent, customer, received_on=date(2026, 3, 1))
    with pytest.raises(ApplicationError):
        services.request_extend(actor=lead, request=req, until=date(2026, 5, 1), reason="")
    with pytest.raises(ApplicationError):
        services.request_extend(actor=lead, request=req, until=date(2026, 7, 1), reason="viel")
    with pytest.raises(ApplicationError):
        services.request_extend(actor=agent, request=req, until=date(2026, 5, 1), reason="x")
    services.request_extend(actor=lead, request=req, until=date(2026, 5, 1), reason="komplex")
    assert selectors.deadline_state(req, today=date(2026, 4, 20)) == "ok"


def test_nothing_is_exported_or_erased_before_the_identity_check(
    agent: Any, customer: Customer
) -> None:
    req = _open(agent, customer, kind="erasure")
    with pytest.raises(ApplicationError) as exc:
        services.erasure_submit(actor=agent, request=req)
    assert exc.value.code == "identity_unchecked"
    access = _open(agent, customer)
    with pytest.raises(ApplicationError):
        services.export_start(actor=agent, customer=customer, request=access)
    req.refresh_from_db()
    assert req.status == PrivacyRequest.Status.OPEN


def test_erasure_needs_a_second_person_and_then_closes_the_request(
    make_user: Any, agent: Any, customer: Customer
) -> None:
    lead = make_user("team_lead")
    req = _open(lead, customer, kind="erasure", identity_method="Rückruf an bekannte Nummer")
    services.erasure_submit(actor=lead, request=req)
    # the same person cannot approve, an agent cannot approve
    with pytest.raises(ApplicationError) as same:
        services.erasure_approve(actor=lead, request=req)
    assert same.value.code == "same_person"
    with pytest.raises(ApplicationError):
        services.erasure_approve(actor=agent, request=req)
    customer.refresh_from_db()
    assert customer.erased_at is None
    # a second team lead approves
    other = make_user("team_lead")
    result = services.erasure_approve(actor=other, request=req)
    req.refresh_from_db()
    assert req.status == PrivacyRequest.Status.DONE
    assert req.approved_by == other
    assert req.result["kept"] == result["kept"]
    customer.refresh_from_db()
    assert customer.erased_at is not None and customer.last_name == ""


def test_a_request_for_an_erased_customer_is_refused(agent: Any, customer: Customer) -> None:
    services.customer_erase(actor=agent, customer=customer)
    customer.refresh_from_db()
    with pytest.raises(ApplicationError) as exc:
        _open(agent, customer)
    assert exc.value.code == "already_erased"


def test_the_list_shows_the_due_date_and_a_warning(
    client: Any, agent: Any, customer: Customer
) -> None:
    _open(agent, customer, received_on=timezone.localdate() - timedelta(days=27))
    client.force_login(agent)
    page = client.get(reverse("privacy:list")).content.decode()
    assert "DS000001" in page
    assert 'class="badge warn"' in page


def test_team_leads_see_a_count_in_the_navigation(
    client: Any, make_user: Any, agent: Any, customer: Customer
) -> None:
    _open(agent, customer, received_on=timezone.localdate() - timedelta(days=40))
    lead = make_user("team_lead")
    client.force_login(lead)
    assert (
        "Privacy (1)"
        in client.get(reverse("privacy:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


def test_the_privacy_desk_is_closed_to_marketing_and_partner_agents(
    client: Any, make_user: Any, partner_agent: Any, agent: Any, customer: Customer
) -> None:
    req = _open(agent, customer)
    for user in (make_user("marketing"), partner_agent):
        client.force_login(user)
        assert client.get(reverse("privacy:list")).status_code == 403
        assert client.get(reverse("privacy:detail", args=[req.pk])).status_code == 403


def test_opening_a_request_through_the_form_with_an_unknown_customer_is_a_field_error(
    client: Any, agent: Any
) -> None:
    client.force_login(agent)
    response = client.post(
        reverse("privacy:create"),
        {"customer": "K9999999", "kind": "access", "channel": "email", "received_on": "2026-03-01"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code == 200
    assert PrivacyRequest.objects.count() == 0


def test_the_ui_flow_opens_checks_submits_and_approves_an_erasure(
    client: Any, make_user: Any, agent: Any, customer: Customer
) -> None:
    client.force_login(agent)
    client.post(
        reverse("privacy:create"),
        {
            "customer": customer.number,
            "kind": "erasure",
            "channel": "email",
            "received_on": timezone.localdate().isoformat(),
        },
    )
    req = PrivacyRequest.objects.get()
    client.post(reverse("privacy:identity", args=[req.pk]), {"identity_method": "Ausweis"})
    client.post(reverse("privacy:erasure_submit", args=[req.pk]))
    lead = make_user("team_lead")
    client.force_login(lead)
    page = client.get(reverse("privacy:detail", args=[req.pk])).content.decode()
    assert 'id="approve"' in page
    client.post(reverse("privacy:erasure_approve", args=[req.pk]))
    customer.refresh_from_db()
    assert customer.erased_at is not None
    assert "orders" in client.get(reverse("privacy:detail", args=[req.pk])).content.decode()
