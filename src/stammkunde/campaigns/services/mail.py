"""Campaign e-mail: compose, test send, the throttled queue, delivery state, unsubscribe.

``email_queue_send`` delivers queued mails in throttled batches outside any
transaction and checks consent again just before each mail, so a withdrawal
between run and delivery is honoured.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Channel, Consent, Customer, EmailAddress
from stammkunde.customers.selectors import contacts_suppressed
from stammkunde.customers.services import consent_record

from .. import selectors, timeline
from ..models import (
    Campaign,
    CampaignContact,
)
from ._common import UNSUBSCRIBE_SALT, _timeline, base_url


def unsubscribe_token(*, customer_id: int, campaign_id: int) -> str:
    """Return the signed token of an unsubscribe link (no expiry: links must keep working)."""
    return signing.dumps({"c": customer_id, "k": campaign_id}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(*, customer_id: int, campaign_id: int) -> str:
    token = unsubscribe_token(customer_id=customer_id, campaign_id=campaign_id)
    return base_url() + reverse("campaigns:unsubscribe", args=[token])


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def campaign_text_render(*, text: str, contact: CampaignContact, campaign: Campaign) -> str:
    """Fill ``{first_name}``, ``{last_name}``, ``{voucher_code}``, ``{points}`` into ``text``.

    Unknown placeholders become empty; a stray brace leaves the text as written,
    so a typo in a campaign never stops a mail or a letter.
    """
    customer = contact.customer
    values = _Blank(
        first_name=customer.first_name,
        last_name=customer.last_name,
        voucher_code=contact.voucher_code,
        points=str(campaign.offer_points),
    )
    try:
        return text.format_map(values)
    except (ValueError, IndexError, AttributeError):
        return text


def email_compose(contact: CampaignContact, campaign: Campaign) -> EmailMessage:
    """Build the campaign mail with an unsubscribe link and one-click List-Unsubscribe."""
    url = unsubscribe_url(customer_id=contact.customer.pk, campaign_id=campaign.pk)
    body = campaign_text_render(text=campaign.body, contact=contact, campaign=campaign)
    subject = campaign_text_render(text=campaign.subject, contact=contact, campaign=campaign)
    footer = (
        "\n\n--\nSie erhalten diese E-Mail, weil Sie Werbung per E-Mail zugestimmt haben. "
        f"Abmelden / unsubscribe: {url}"
    )
    return EmailMessage(
        subject=subject.replace("\n", " "),
        body=body + footer,
        to=[contact.email_to],
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def campaign_test_send(*, actor: User, campaign: Campaign) -> Any:
    """Send the campaign mail to the acting user's own address, marked as a test.

    It goes through the outbox like every mail but is no contact: nobody is
    counted as contacted, no cost is booked, no voucher is issued.
    """
    from stammkunde.channels.services import outbox_enqueue_test, outbox_send

    address = (getattr(actor, "email", "") or "").strip()
    if not address:
        raise ApplicationError(
            _("Your user account has no e-mail address; add one to send a test."),
            code="no_email",
        )
    if campaign.channel != Campaign.Channel.EMAIL:
        raise ApplicationError(_("Only e-mail campaigns can be sent as a test."), code="channel")
    sample = Customer(
        first_name=getattr(actor, "first_name", "") or _("Test"),
        last_name=getattr(actor, "last_name", "") or _("Customer"),
    )
    contact = CampaignContact(customer=sample, email_to=address, voucher_code="TEST-0000")
    message = email_compose(contact, campaign)
    outbox = outbox_enqueue_test(
        to=address,
        subject=f"[{_('Test')}] {message.subject}",
        body=str(message.body),
        headers={k: str(v) for k, v in message.extra_headers.items()},
    )
    audit_record(actor=actor, action="update", obj=campaign, changes={"test_send": ["", address]})
    outbox_send(outbox_id=outbox.pk)
    outbox.refresh_from_db()
    return outbox


def email_queue_send(*, limit: int | None = None, now: datetime | None = None) -> dict[str, int]:
    """Hand up to ``limit`` queued campaign mails to the outbox and send them; return counts.

    Counts: sent, deferred (the relay did not answer; the outbox retries with
    back-off), failed, cancelled, left. Not one transaction on purpose: each
    mail is sent outside any transaction and then marked, so a crash never
    marks unsent mail as sent. Consent and deliverability are checked again
    right before handing over. A contact handed over keeps ``email_to``; its
    delivery is read from the outbox (``selectors.contact_delivery``).
    """
    from stammkunde.channels import services as channels

    limit = limit or int(getattr(settings, "CAMPAIGNS_EMAIL_BATCH", 200))
    email_delivery_sync()
    queued = list(
        CampaignContact.objects.filter(
            status=CampaignContact.Status.QUEUED, channel=Campaign.Channel.EMAIL, email_to=""
        )
        .select_related("customer", "campaign")
        .order_by("id")[:limit]
    )
    counts = {"sent": 0, "deferred": 0, "cancelled": 0, "failed": 0}
    if queued:
        ids = [c.customer_id for c in queued]
        allowed = set(
            Customer.objects.filter(pk__in=ids, id__in=selectors.email_marketing_ids()).values_list(
                "pk", flat=True
            )
        )
        addresses = dict(
            EmailAddress.objects.filter(
                customer_id__in=ids, is_primary=True, undeliverable_at__isnull=True
            ).values_list("customer_id", "address")
        )
        erased = contacts_suppressed(emails=addresses.values())  # DSGVO suppression list
        addresses = {c: a for c, a in addresses.items() if a not in erased}
        for contact in queued:
            if contact.customer_id not in allowed or contact.customer_id not in addresses:
                CampaignContact.objects.filter(pk=contact.pk, status="queued").update(
                    status=CampaignContact.Status.CANCELLED, error="no consent or address", cost=0
                )
                counts["cancelled"] += 1
                continue
            contact.email_to = addresses[contact.customer_id]
            message = email_compose(contact, contact.campaign)
            outbox = channels.outbox_enqueue_campaign(
                reference_id=contact.pk,
                to=contact.email_to,
                subject=str(message.subject),
                body=str(message.body),
                headers={k: str(v) for k, v in message.extra_headers.items()},
            )
            CampaignContact.objects.filter(pk=contact.pk).update(email_to=contact.email_to)
            outcome = channels.outbox_send(outbox_id=outbox.pk)
            if outcome == "retry":
                counts["deferred"] += 1
            elif outcome != "skipped":
                counts["failed" if outcome == "failed" else "sent"] += 1
        email_delivery_sync(now=now)
    counts["left"] = CampaignContact.objects.filter(
        status=CampaignContact.Status.QUEUED, channel=Campaign.Channel.EMAIL, email_to=""
    ).count()
    return counts


def email_delivery_sync(*, now: datetime | None = None) -> int:
    """Carry the outbox's final delivery state into the contact log; return contacts changed.

    A delivered mail becomes ``sent`` (with a timeline entry); a mail that
    failed or bounced becomes ``failed``/``bounced`` and books no cost, so the
    budget it reserved is free again. Reads are derived from the outbox anyway
    (``selectors.contact_delivery``); this keeps the stored status honest for
    every other reader (exports, the API).
    """
    pending = (
        selectors.contact_delivery(
            CampaignContact.objects.filter(
                channel=Campaign.Channel.EMAIL,
                status__in=[CampaignContact.Status.QUEUED, CampaignContact.Status.SENT],
            ).exclude(email_to="")
        )
        .filter(outbox_status__in=["sent", "failed", "bounced", "cancelled"])
        .select_related("customer", "campaign")
    )
    changed = 0
    for contact in pending:
        target = {
            "sent": CampaignContact.Status.SENT,
            "failed": CampaignContact.Status.FAILED,
            "bounced": CampaignContact.Status.BOUNCED,
            "cancelled": CampaignContact.Status.CANCELLED,
        }[contact.outbox_status]
        if target == contact.status:
            continue
        with transaction.atomic():
            if target == CampaignContact.Status.SENT:
                at = contact.outbox_sent_at or now or timezone.now()
                CampaignContact.objects.filter(pk=contact.pk).update(status=target, sent_at=at)
                _timeline(
                    contact,
                    contact.campaign,
                    at=at,
                    actor=None,
                    text_key=timeline.EMAIL,
                    text_params={"subject": contact.outbox_subject or ""},
                )
            else:
                CampaignContact.objects.filter(pk=contact.pk).update(
                    status=target, cost=Decimal("0"), error=(contact.outbox_error or "")[:300]
                )
        changed += 1
    return changed


@transaction.atomic
def email_bounce_record(*, address: str, reason: str, at: datetime | None = None) -> int:
    """Mark campaign mails to ``address`` as bounced and the address undeliverable."""
    at = at or timezone.now()
    address = address.strip().lower()
    n = CampaignContact.objects.filter(email_to=address, status=CampaignContact.Status.SENT).update(
        status=CampaignContact.Status.BOUNCED, error=reason[:300]
    )
    EmailAddress.objects.filter(address=address, undeliverable_at__isnull=True).update(
        undeliverable_at=at, undeliverable_reason=reason[:300]
    )
    return n


@transaction.atomic
def contact_unsubscribe(*, token: str, source: str = "unsubscribe link") -> Customer:
    """Withdraw the marketing email consent of the token's customer at once.

    Queued mails of that customer are cancelled in the same transaction.
    Raises ApplicationError for a forged or broken token.
    """
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        customer = Customer.objects.get(pk=int(data["c"]))
    except (signing.BadSignature, KeyError, ValueError, TypeError, Customer.DoesNotExist) as exc:
        raise ApplicationError("This unsubscribe link is not valid.", code="bad_token") from exc
    if (
        selectors.email_marketing_ids().filter(id=customer.pk).exists()
        or not Consent.objects.filter(
            customer=customer, purpose="marketing", channel="email", status="withdrawn"
        ).exists()
    ):
        consent_record(
            actor=None,
            customer=customer,
            purpose=Consent.Purpose.MARKETING,
            channel=Channel.EMAIL,
            status=Consent.Status.WITHDRAWN,
            source=f"{source} (campaign {data.get('k')})"[:100],
        )
    waiting = CampaignContact.objects.filter(
        customer=customer, status=CampaignContact.Status.QUEUED, channel=Campaign.Channel.EMAIL
    )
    from stammkunde.channels.services import outbox_cancel

    outbox_cancel(
        kind="campaign",
        reference_ids=list(waiting.values_list("pk", flat=True)),
        reason="consent withdrawn",
    )
    waiting.update(status=CampaignContact.Status.CANCELLED, error="consent withdrawn", cost=0)
    return customer
