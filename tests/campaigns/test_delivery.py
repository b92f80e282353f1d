"""A campaign counts as contacted only what was delivered and books cost only for that.

The mails go through the outbox to a real SMTP peer (aiosmtpd) or to a port
nobody listens on, on the SMTP backend as in production.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from stammkunde.campaigns import selectors, services
from stammkunde.campaigns.evaluation import contact_frame
from stammkunde.campaigns.models import CampaignContact
from stammkunde.channels.models import OutboxMessage
from stammkunde.channels.services import OUTBOX_MAX_ATTEMPTS, mail_ingest, outbox_send_due

from ..channels.conftest import SinkHandler, free_port
from .factories import consenting_customer, email_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.CHANNELS_SEND_IMMEDIATELY = False
    return settings


@pytest.fixture
def peer(smtp):
    """A real SMTP server on the configured port."""
    from aiosmtpd.controller import Controller

    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp.EMAIL_PORT)
    controller.start()
    yield handler
    controller.stop()


def _campaign_to_three(**data):
    for name in ("Anna", "Bert", "Cem"):
        consenting_customer(first_name=name)
    campaign = email_campaign(cost_per_contact=Decimal("1.50"), **data)
    services.campaign_run(actor=None, campaign=campaign)
    return campaign


def _until_given_up() -> None:
    """Run the scheduled outbox sends past every back-off until the outbox gives up."""
    now = timezone.now()
    for _ in range(OUTBOX_MAX_ATTEMPTS):
        now += timedelta(hours=7)
        outbox_send_due(now=now)


def test_a_campaign_whose_mails_are_deferred_counts_no_contact_and_no_cost(smtp) -> None:
    campaign = _campaign_to_three()
    counts = services.email_queue_send()
    assert counts["deferred"] == 3 and counts["sent"] == 0
    summary = selectors.campaign_contacts_summary(campaign)
    assert summary["contacted"] == 0 and summary["cost"] == Decimal("0")
    assert summary["delivery"]["deferred"] == 3
    assert {r["state"] for r in summary["recipients"]} == {"deferred"}
    assert all(r["next_at"] is not None for r in summary["recipients"])
    # the deferred mails still hold their budget: they may go out
    assert selectors.campaign_cost_committed(campaign) == Decimal("4.50")


def test_a_campaign_whose_mails_all_fail_counts_0_contacted_and_0_cost(smtp, client, make_user):
    campaign = _campaign_to_three(budget=Decimal("4.50"))
    services.email_queue_send()
    _until_given_up()
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"failed"}
    services.email_queue_send()  # the dispatch carries the outcome into the contact log
    assert set(campaign.contacts.values_list("status", flat=True)) == {"failed"}
    summary = selectors.campaign_contacts_summary(campaign)
    assert summary["contacted"] == 0 and summary["cost"] == Decimal("0")
    assert summary["delivery"]["failed"] == 3 and summary["treatment"] == 3
    assert selectors.campaign_cost_committed(campaign) == Decimal("0")  # budget freed
    assert len(contact_frame(campaign)) == 0  # nobody was treated (no control here)
    client.force_login(make_user("marketing"))
    page = client.get(
        reverse("campaigns:detail", args=[campaign.pk]), HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert '<td class="num" id="contacted">0</td>' in page
    assert '<td class="num" id="contact-cost">0,00 €</td>' in page
    assert "fehlgeschlagen 3" in page
    assert "3 Nachrichten wurden nicht zugestellt" in page
    assert page.count('data-delivery="failed"') == 4  # the count row and three recipients


def test_with_a_working_peer_the_campaign_counts_every_delivered_mail(peer) -> None:
    campaign = _campaign_to_three()
    counts = services.email_queue_send()
    assert counts["sent"] == 3
    assert len(peer.messages) == 3
    assert all(m["List-Unsubscribe"] for m in peer.messages)
    summary = selectors.campaign_contacts_summary(campaign)
    assert summary["contacted"] == 3 and summary["cost"] == Decimal("4.50")
    assert set(campaign.contacts.values_list("status", flat=True)) == {"sent"}
    assert contact_frame(campaign)["treated"].sum() == 3


def test_a_bounced_campaign_mail_is_not_contacted_and_books_no_cost(peer) -> None:
    campaign = _campaign_to_three()
    services.email_queue_send()
    bounced = OutboxMessage.objects.filter(kind="campaign").order_by("id").first()
    dsn = (
        "From: MAILER-DAEMON@example.de\r\nTo: service@stammkunde.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn9@example.de>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
        'boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n'
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        f"Final-Recipient: rfc822; {bounced.to}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{bounced.message_id}>\r\n\r\n--b--\r\n"
    ).encode()
    assert mail_ingest(raw=dsn).result == "bounce"
    summary = selectors.campaign_contacts_summary(campaign)
    assert summary["contacted"] == 2 and summary["cost"] == Decimal("3.00")
    assert summary["delivery"]["bounced"] == 1
    services.email_queue_send()
    contact = CampaignContact.objects.get(pk=bounced.reference_id)
    assert contact.status == "bounced" and contact.cost == Decimal("0")


def test_consent_withdrawn_while_deferred_cancels_the_outbox_mail(smtp) -> None:
    campaign = _campaign_to_three()
    services.email_queue_send()
    contact = campaign.contacts.order_by("id").first()
    services.contact_unsubscribe(
        token=services.unsubscribe_token(customer_id=contact.customer_id, campaign_id=campaign.pk)
    )
    outbox = OutboxMessage.objects.get(kind="campaign", reference_id=contact.pk)
    assert outbox.status == "cancelled"
    assert outbox_send_due(now=timezone.now() + timedelta(hours=7)) == {"retry": 2}
