"""Consent-safe sending: who gets a campaign, who is held out, and why the others are not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.core import mail

from stammkunde.campaigns import services
from stammkunde.campaigns.models import Campaign, CampaignContact, QuietPeriod
from stammkunde.campaigns.numeric.assignment import control_mask, in_control
from stammkunde.customers.models import Consent
from stammkunde.customers.services import consent_record
from stammkunde.service.models import Ticket

from ..customers.factories import CustomerFactory
from ..service.factories import queue, ticket
from .factories import (
    NOW,
    consenting_customer,
    email_campaign,
    phase_event,
    phone_consenting_customer,
    score,
)

pytestmark = pytest.mark.django_db


def _run(campaign: Campaign, *, now: datetime = NOW) -> dict:
    run = services.campaign_run(actor=None, campaign=campaign, now=now)
    services.email_queue_send(now=now)
    return run.counts


def _mailed() -> set[str]:
    return {m.to[0] for m in mail.outbox}


def test_email_goes_only_to_customers_with_a_double_opt_in(django_capture_on_commit_callbacks):
    # given
    ok = consenting_customer(first_name="Ok")
    CustomerFactory(first_name="Never")  # no consent at all
    withdrawn = consenting_customer(first_name="Withdrawn")
    consent_record(
        actor=None,
        customer=withdrawn,
        purpose="marketing",
        channel="email",
        status="withdrawn",
        source="customer call",
        at=datetime(2025, 6, 1, tzinfo=UTC),
    )
    single = CustomerFactory(first_name="Single")
    consent_record(
        actor=None,
        customer=single,
        purpose="marketing",
        channel="email",
        status="granted",
        source="checkbox without confirmation",
        at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    campaign = email_campaign()
    # when
    counts = _run(campaign)
    # then
    assert _mailed() == {"ok@example.de"}
    assert counts["suppressed"] == {"no_email_consent": 3}
    contact = CampaignContact.objects.get(customer=ok)
    assert contact.status == CampaignContact.Status.SENT
    assert ok.interactions.filter(kind="campaign").count() == 1


def test_campaign_mail_has_unsubscribe_link_and_one_click_headers() -> None:
    # given
    consenting_customer(first_name="Ida")
    # when
    _run(email_campaign())
    # then
    message = mail.outbox[0]
    assert message.subject == "Hallo Ida"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert "/campaigns/u/" in url and url in message.body


def test_open_complaint_stops_advertising_until_solved() -> None:
    # given
    angry = consenting_customer(first_name="Angry")
    ticket(customer=angry, type=Ticket.Type.COMPLAINT)
    consenting_customer(first_name="Calm")
    # when
    counts = _run(email_campaign())
    # then
    assert _mailed() == {"calm@example.de"}
    assert counts["suppressed"] == {"open_complaint": 1}


def test_contact_cap_across_campaigns_is_respected(settings) -> None:
    # given two earlier campaigns already reached the customer in the cap window
    settings.CAMPAIGNS_CONTACT_CAP = 2
    settings.CAMPAIGNS_MIN_GAP_DAYS = 0
    busy = consenting_customer(first_name="Busy")
    for days in (20, 10):
        _run(email_campaign(name=f"earlier {days}"), now=NOW - timedelta(days=days))
    assert CampaignContact.objects.filter(customer=busy).count() == 2
    mail.outbox.clear()
    # when
    counts = _run(email_campaign(name="third"))
    # then
    assert mail.outbox == []
    assert counts["suppressed"] == {"contact_cap": 1}


def test_recent_contact_and_quiet_periods_hold_advertising_back(settings) -> None:
    # given
    settings.CAMPAIGNS_MIN_GAP_DAYS = 7
    consenting_customer(first_name="Recent")
    _run(email_campaign(name="last week"), now=NOW - timedelta(days=3))
    mail.outbox.clear()
    # when contacted three days ago
    counts = _run(email_campaign(name="now"))
    # then
    assert counts["suppressed"] == {"recently_contacted": 1}
    # and during a quiet period nobody gets advertising
    QuietPeriod.objects.create(
        name="Weihnachten", starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31)
    )
    counts = _run(email_campaign(name="quiet"), now=NOW + timedelta(days=10))
    assert counts["suppressed"] == {"quiet_period": 1}
    assert mail.outbox == []


def test_withdrawal_between_queueing_and_sending_is_honoured() -> None:
    # given a queued mail
    customer = consenting_customer(first_name="Quick")
    campaign = email_campaign()
    services.campaign_run(actor=None, campaign=campaign, now=NOW)
    mail.outbox.clear()
    # when the customer withdraws before the queue is sent
    consent_record(
        actor=None,
        customer=customer,
        purpose="marketing",
        channel="email",
        status="withdrawn",
        source="phone call",
    )
    counts = services.email_queue_send(now=NOW)
    # then
    assert mail.outbox == []
    assert counts["cancelled"] == 1
    assert CampaignContact.objects.get(customer=customer).status == "cancelled"


def test_bounced_address_is_not_mailed_again() -> None:
    # given
    consenting_customer(first_name="Gone")
    _run(email_campaign(name="first"))
    # when
    services.email_bounce_record(address="gone@example.de", reason="550 no such user")
    mail.outbox.clear()
    counts = _run(email_campaign(name="second"), now=NOW + timedelta(days=40))
    # then
    assert mail.outbox == []
    assert counts["suppressed"] == {"no_email_address": 1}
    assert CampaignContact.objects.filter(status="bounced").count() == 1


def test_control_group_gets_nothing_and_is_logged() -> None:
    # given 60 consenting customers and a 50 % control share
    customers = [consenting_customer(first_name=f"C{i}") for i in range(60)]
    campaign = email_campaign(control_share=Decimal("0.50"))
    # when
    counts = _run(campaign)
    # then
    held = CampaignContact.objects.filter(group="control")
    assert counts["control"] == held.count() > 10
    assert counts["treatment"] == len(mail.outbox) == 60 - held.count()
    assert {h.status for h in held} == {"held_out"}
    mailed = _mailed()
    for contact in held.select_related("customer"):
        assert contact.customer.emails.first().address not in mailed
        assert in_control(campaign.assignment_key, contact.customer_id, 0.5)
    assert len(customers) == 60


def test_control_assignment_is_stable_per_customer_and_campaign() -> None:
    ids = np.arange(1, 20_001)
    first = control_mask("a1b2", ids, 0.1)
    # the same every time
    assert np.array_equal(first, control_mask("a1b2", ids, 0.1))
    assert in_control("a1b2", 123, 0.1) == bool(first[122])
    # about the share asked for (binomial sd of 20,000 x 0.1 is 42)
    assert 1850 < first.sum() < 2150
    # and independent across campaigns
    other = control_mask("c3d4", ids, 0.1)
    assert 150 < (first & other).sum() < 250


def test_a_rerun_does_not_contact_anyone_twice() -> None:
    consenting_customer(first_name="Once")
    campaign = email_campaign()
    _run(campaign)
    counts = _run(campaign, now=NOW + timedelta(days=1))
    assert counts["audience"] == 0
    assert len(mail.outbox) == 1


def test_budget_stops_the_send_for_both_groups() -> None:
    for i in range(5):
        consenting_customer(first_name=f"B{i}")
    campaign = email_campaign(budget=Decimal("0.30"), cost_per_contact=Decimal("0.10"))
    counts = _run(campaign)
    assert counts["treatment"] == 3
    assert counts["suppressed"] == {"budget": 2}


def test_voucher_offer_issues_a_personal_code_into_the_mail() -> None:
    customer = consenting_customer(first_name="Vera")
    campaign = email_campaign(
        offer_kind="voucher", offer_value=Decimal("15.00"), body="Code: {voucher_code}"
    )
    _run(campaign)
    contact = CampaignContact.objects.get(customer=customer)
    assert contact.voucher_code and contact.voucher_code in mail.outbox[0].body
    assert customer.vouchers.get().value == Decimal("15.00")


def test_churn_prone_playbook_creates_call_tasks_with_risk_reasons(
    django_capture_on_commit_callbacks,
) -> None:
    # given a service queue and a churn-prone customer who may be called
    queue("Outbound")
    customer = phone_consenting_customer(first_name="Paula")
    score(
        customer,
        phase="churn_prone",
        reasons=[
            {"feature": "returns", "de": "Zwei Retouren", "en": "Two returns", "contribution": 0.4}
        ],
    )
    phase_event(customer, to="churn_prone", on=date.today())
    playbook = Campaign.objects.get(playbook_phase="churn_prone")
    playbook.control_share = Decimal("0")
    playbook.save()
    # when marketing switches the playbook on
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_status_set(actor=None, campaign=playbook, status="active")
    # then an agent has a call task with the reasons, due within a day
    task = Ticket.objects.get(customer=customer)
    assert task.tags.filter(name="outbound-call").exists()
    assert task.priority == "high"
    assert "Zwei Retouren" in task.messages.first().body
    contact = CampaignContact.objects.get(customer=customer)
    assert contact.ticket_id == task.pk and contact.status == "sent"
    # and switching on again raises no second task for the same event
    services.campaign_trigger_pass(campaign=playbook)
    assert Ticket.objects.filter(customer=customer).count() == 1


def test_phone_campaign_needs_a_service_queue() -> None:
    playbook = Campaign.objects.get(playbook_phase="churn_prone")
    from stammkunde.core.errors import ApplicationError

    with pytest.raises(ApplicationError, match="create a queue first"):
        services.campaign_status_set(actor=None, campaign=playbook, status="active")


def test_unsubscribe_withdraws_consent_at_once(client) -> None:
    # given
    customer = consenting_customer(first_name="Ulla")
    _run(email_campaign())
    url = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    path = url.split("8000", 1)[1]
    # when the mail client posts the one-click request
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    # then
    assert response.status_code == 200
    latest = Consent.objects.filter(customer=customer, channel="email").first()
    assert latest.status == "withdrawn" and "one-click" in latest.source
    mail.outbox.clear()
    counts = _run(email_campaign(name="next"), now=NOW + timedelta(days=40))
    assert mail.outbox == [] and counts["suppressed"] == {"no_email_consent": 1}


def test_unsubscribe_page_asks_before_withdrawing_and_refuses_forged_links(client) -> None:
    customer = consenting_customer(first_name="Gisela")
    token = services.unsubscribe_token(customer_id=customer.pk, campaign_id=1)
    assert client.get(f"/campaigns/u/{token}/").status_code == 200
    assert Consent.objects.filter(customer=customer, status="withdrawn").count() == 0
    assert client.post(f"/campaigns/u/{token}/").status_code == 200
    assert Consent.objects.filter(customer=customer, status="withdrawn").count() == 1
    assert client.post(f"/campaigns/u/{token}x/").status_code == 400


def test_the_send_job_reports_progress_over_the_audience_and_contacts_as_the_direct_run(
    monkeypatch, django_capture_on_commit_callbacks
) -> None:
    # given 23 customers (20 consenting, 3 without consent) and a 30 % control share
    from django.db import transaction

    from stammkunde.campaigns.services import sends
    from stammkunde.core.jobs.models import Job
    from stammkunde.core.jobs.services import RowContext, job_start

    for i in range(20):
        consenting_customer(first_name=f"J{i}")
    for i in range(3):
        CustomerFactory(first_name=f"Ohne{i}")
    campaign = email_campaign(control_share=Decimal("0.30"))
    # and what the direct run makes (rolled back again)
    with transaction.atomic():
        direct = services.campaign_run(actor=None, campaign=campaign)
        made = {(c.customer_id, c.group) for c in campaign.contacts.all()}
        audience = direct.counts["audience"]
        transaction.set_rollback(True)
    assert audience == 23 and len(made) == 20
    assert not campaign.contacts.exists() and not campaign.runs.exists()
    monkeypatch.setattr(sends, "RUN_CHUNK", 6)
    reported: list[tuple[int | None, int, int | None]] = []
    progress = RowContext.progress

    def spy(self, **kwargs):
        progress(self, **kwargs)
        reported.append((self.job_id, self.done, self.total))

    monkeypatch.setattr(RowContext, "progress", spy)
    # when: the job runs
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="campaigns.send", params={"campaign_id": campaign.pk})
    # then: done of total over the audience, step by step, and the same contacts
    assert job is not None
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.progress_done == job.progress_total == audience
    steps = [done for job_id, done, total in reported if job_id == job.pk and total]
    assert steps == [3, 9, 15, 21, 23]  # the three without consent are done at once
    assert {(c.customer_id, c.group) for c in campaign.contacts.all()} == made
    assert job.result["treatment"] + job.result["control"] == 20
    assert len(mail.outbox) == job.result["treatment"]
    # when: the job runs again (as a retry would): nobody is contacted twice
    with django_capture_on_commit_callbacks(execute=True):
        again = job_start(kind="campaigns.send", params={"campaign_id": campaign.pk})
    assert again is not None
    again.refresh_from_db()
    assert again.status == Job.Status.DONE and again.result["treatment"] == 0
    assert again.progress_done == again.progress_total == 3  # the ones without consent
    assert campaign.contacts.count() == 20
    assert len(mail.outbox) == job.result["treatment"]
