"""Triggers (birthday, n days after a purchase, churn risk crossing) and the scheduled dispatch."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail

from stammkunde.analytics.orm import AnalyticsEvent
from stammkunde.campaigns import services
from stammkunde.campaigns.models import CampaignContact

from ..commerce.factories import order
from .factories import consenting_customer, email_campaign

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)


def test_birthday_campaign_greets_once_a_year() -> None:
    # given
    child = consenting_customer(first_name="Geburtstag")
    child.birthday = date(1990, 3, 10)
    child.save()
    consenting_customer(first_name="Andermal")
    campaign = email_campaign(trigger="birthday")
    # when
    services.campaign_trigger_pass(campaign=campaign, now=NOW)
    services.campaign_trigger_pass(campaign=campaign, now=NOW + timedelta(hours=2))
    services.email_queue_send(now=NOW)
    # then
    contact = CampaignContact.objects.get()
    assert (contact.customer_id, contact.occasion) == (child.pk, "birthday:2026")
    assert [m.to[0] for m in mail.outbox] == ["geburtstag@example.de"]


def test_after_purchase_campaign_follows_each_order_after_n_days() -> None:
    # given
    buyer = consenting_customer(first_name="Kaeufer")
    o = order(buyer, "N1", at=NOW - timedelta(days=14))
    order(consenting_customer(first_name="Frisch"), "N2", at=NOW - timedelta(days=2))
    campaign = email_campaign(trigger="after_purchase", trigger_days=14)
    # when
    run = services.campaign_trigger_pass(campaign=campaign, now=NOW)
    # then
    assert run.counts["treatment"] == 1
    assert CampaignContact.objects.get().occasion == f"order:{o.pk}"


def test_risk_crossing_campaign_reacts_to_upward_crossings_only() -> None:
    # given
    up = consenting_customer(first_name="Hoch")
    down = consenting_customer(first_name="Runter")
    for customer, direction in ((up, "up"), (down, "down")):
        AnalyticsEvent.objects.create(
            kind=AnalyticsEvent.Kind.RISK_CROSSED_THRESHOLD,
            customer=customer,
            occurred_on=NOW.date(),
            created_at=NOW,
            payload={"from": 0.5, "to": 0.8, "threshold": 0.7, "direction": direction},
        )
    campaign = email_campaign(trigger="risk_crossing")
    # when
    services.campaign_trigger_pass(campaign=campaign, now=NOW)
    # then
    assert list(CampaignContact.objects.values_list("customer_id", flat=True)) == [up.pk]


def test_dispatch_sends_scheduled_campaigns_when_due_and_only_once(
    django_capture_on_commit_callbacks,
) -> None:
    # given
    consenting_customer(first_name="Plan")
    campaign = email_campaign(scheduled_for=NOW + timedelta(hours=1), control_share=Decimal("0"))
    # when not yet due
    assert services.campaigns_dispatch_due(now=NOW) == {}
    # when due
    with django_capture_on_commit_callbacks(execute=True):
        done = services.campaigns_dispatch_due(now=NOW + timedelta(hours=2))
    # then
    assert done == {str(campaign.pk): 1}
    assert len(mail.outbox) == 1
    assert services.campaigns_dispatch_due(now=NOW + timedelta(hours=3)) == {}


def test_mail_queue_sends_in_batches(settings, django_capture_on_commit_callbacks) -> None:
    # given five queued mails and batches of two
    settings.CAMPAIGNS_EMAIL_BATCH = 2
    for i in range(5):
        consenting_customer(first_name=f"Q{i}")
    campaign = email_campaign()
    services.campaign_run(actor=None, campaign=campaign, now=NOW)
    # when one batch is sent
    counts = services.email_queue_send(now=NOW)
    # then
    assert counts == {"sent": 2, "deferred": 0, "cancelled": 0, "failed": 0, "left": 3}
    # and the task keeps going until the queue is empty
    from stammkunde.campaigns.tasks import campaigns_email_dispatch

    campaigns_email_dispatch.apply()
    assert len(mail.outbox) == 5
