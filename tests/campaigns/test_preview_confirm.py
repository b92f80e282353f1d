"""Campaigns ask first: the preview shows what a send or switch-on does, the confirmation
must name that very plan, and a test send reaches only the user who asked for it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from stammkunde.campaigns import selectors, services
from stammkunde.campaigns.models import Campaign, CampaignContact, CampaignRun
from stammkunde.channels.models import OutboxMessage
from stammkunde.customers.services import consent_record, contacts_suppress
from stammkunde.service.models import Ticket

from ..customers.factories import CustomerFactory
from ..service.factories import queue
from .factories import consenting_customer, email_campaign, phone_consenting_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing(make_user, client):
    user = make_user("marketing", email="mara@shop.example", first_name="Mara")
    client.force_login(user)
    return user


@pytest.fixture
def audience():
    """Twelve who may get mail; one without consent, one withdrawn, one bounced, one erased."""
    ok = [consenting_customer(first_name=f"Kundin{i}") for i in range(12)]
    CustomerFactory(first_name="Ohne")
    withdrawn = consenting_customer(first_name="Zurueck")
    consent_record(
        actor=None,
        customer=withdrawn,
        purpose="marketing",
        channel="email",
        status="withdrawn",
        source="unsubscribe link",
    )
    consenting_customer(first_name="Gone")
    services.email_bounce_record(address="gone@example.de", reason="550 no such user")
    consenting_customer(first_name="Geloescht")
    contacts_suppress(emails=["geloescht@example.de"])
    return ok


def _preview(client, campaign: Campaign, action: str = "run"):
    page = client.get(f"/campaigns/{campaign.pk}/preview/?action={action}")
    assert page.status_code == 200
    return page, page.context["preview"]


def test_preview_names_the_excluded_by_reason_and_writes_nothing(
    client, marketing, audience
) -> None:
    # given
    campaign = email_campaign(control_share=Decimal("0.25"), cost_per_contact=Decimal("1.50"))
    # when
    page, preview = _preview(client, campaign)
    # then
    reasons = {row["key"]: row["n"] for row in preview.excluded}
    assert reasons.pop("no_email_consent") == 2  # never asked, withdrawn
    assert reasons.pop("no_email_address") == 1  # bounced
    assert reasons.pop("suppressed") == 1  # erased person's address
    assert reasons == {"control": preview.plan.control}
    assert preview.plan.treatment + preview.plan.control == 12
    assert preview.audience == 16
    assert len(preview.sample) == min(10, preview.plan.treatment)
    assert preview.cost == Decimal("1.50") * preview.plan.treatment
    assert f"sendet {preview.plan.treatment} E-Mails" in page.content.decode()
    assert CampaignRun.objects.count() == 0 and CampaignContact.objects.count() == 0


def test_the_confirmed_run_does_what_the_preview_said(
    client, marketing, audience, django_capture_on_commit_callbacks
) -> None:
    # given
    campaign = email_campaign(control_share=Decimal("0.25"))
    _page, preview = _preview(client, campaign)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/campaigns/{campaign.pk}/run/", {"confirm": preview.token})
    # then
    assert response.status_code == 302
    run = CampaignRun.objects.get()
    assert run.counts["treatment"] == preview.plan.treatment
    assert run.counts["control"] == preview.plan.control
    assert run.counts["suppressed"] == preview.plan.suppressed
    planned = {(d.customer_id, d.control) for d in preview.plan.decisions}
    made = {(c.customer_id, c.group == "control") for c in campaign.contacts.all()}
    assert made == planned
    assert len(mail.outbox) == preview.plan.treatment
    detail = client.get(f"/campaigns/{campaign.pk}/")
    assert detail.context["contacts"]["contacted"] == preview.plan.treatment


def test_a_post_without_confirmation_sends_nothing(client, marketing, audience) -> None:
    # given
    campaign = email_campaign()
    # when
    response = client.post(f"/campaigns/{campaign.pk}/run/")
    # then: back to the preview, nothing written or sent
    assert response.status_code == 302 and "/preview/?action=run" in response["Location"]
    assert CampaignRun.objects.count() == 0 and CampaignContact.objects.count() == 0
    assert mail.outbox == []


def test_a_changed_audience_makes_the_confirmation_stale(client, marketing, audience) -> None:
    # given a preview, then one more customer joins the audience
    campaign = email_campaign()
    _page, preview = _preview(client, campaign)
    consenting_customer(first_name="Neu")
    # when
    response = client.post(f"/campaigns/{campaign.pk}/run/", {"confirm": preview.token})
    # then: asked again with the new figures, nothing written
    assert response.status_code == 409
    assert CampaignRun.objects.count() == 0
    assert response.context["preview"].plan.treatment == preview.plan.treatment + 1
    assert 'id="stale"' in response.content.decode()
    # and the new token confirms
    client.post(f"/campaigns/{campaign.pk}/run/", {"confirm": response.context["preview"].token})
    assert CampaignRun.objects.get().counts["treatment"] == preview.plan.treatment + 1


def test_a_guessed_token_confirms_nothing(client, marketing, audience) -> None:
    campaign = email_campaign()
    response = client.post(f"/campaigns/{campaign.pk}/run/", {"confirm": "0" * 20})
    assert response.status_code == 409 and CampaignRun.objects.count() == 0


def test_the_test_send_goes_only_to_the_user_and_counts_nothing(
    client, marketing, audience
) -> None:
    # given
    campaign = email_campaign(subject="Hallo {first_name}")
    # when
    response = client.post(f"/campaigns/{campaign.pk}/test-send/", {"action": "run"})
    # then
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["mara@shop.example"]]
    assert mail.outbox[0].subject == "[Test] Hallo Mara"
    outbox = OutboxMessage.objects.get()
    assert outbox.status == "sent" and outbox.reference_id is None
    assert outbox.headers["X-Stammkunde-Test"] == "yes"
    assert CampaignContact.objects.count() == 0
    summary = selectors.campaign_contacts_summary(campaign)
    assert summary["contacted"] == 0 and summary["cost"] == 0


def test_a_test_send_without_an_own_address_is_refused(client, make_user, audience) -> None:
    user = make_user("marketing")
    client.force_login(user)
    campaign = email_campaign()
    client.post(f"/campaigns/{campaign.pk}/test-send/")
    assert mail.outbox == [] and OutboxMessage.objects.count() == 0


def test_switching_on_a_phone_playbook_asks_and_then_creates_the_call_tasks_it_named(
    client, marketing, django_capture_on_commit_callbacks
) -> None:
    # given a birthday call campaign and five customers whose birthday is today
    from django.utils import timezone

    queue("Kundenservice")
    today = timezone.localdate()
    for i in range(5):
        phone_consenting_customer(first_name=f"Geb{i}", birthday=today.replace(year=1980))
    phone_consenting_customer(first_name="Andermal", birthday=date_other(today))
    campaign = services.campaign_create(
        actor=None,
        data={
            "name": "Geburtstagsanruf",
            "offer_kind": "information",
            "channel": "phone",
            "trigger": "birthday",
            "is_advertising": True,
            "control_share": Decimal("0"),
            "cost_per_contact": Decimal("4.00"),
            "expected_uplift": Decimal("0.2"),
        },
    )
    # when: switch on without confirmation
    asked = client.post(f"/campaigns/{campaign.pk}/status/", {"status": "active"})
    campaign.refresh_from_db()
    # then: nothing happened, the preview names the call tasks
    assert campaign.status == "draft" and Ticket.objects.count() == 0
    page = client.get(asked["Location"])
    preview = page.context["preview"]
    assert preview.plan.treatment == 5, preview.plan.suppressed
    assert "erstellt 5 Anrufaufgaben" in page.content.decode()
    assert "kostet ca. 20 €" in page.content.decode()
    # when: confirmed
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/campaigns/{campaign.pk}/status/", {"status": "active", "confirm": preview.token}
        )
    # then
    campaign.refresh_from_db()
    assert campaign.status == "active"
    assert Ticket.objects.filter(tags__name="outbound-call").count() == 5


def date_other(today):
    """A birthday that is not today."""
    from datetime import timedelta

    other = today + timedelta(days=40)
    return other.replace(year=1980)
