"""Every write of the campaigns app: segments, campaigns, sends, unsubscribes, DOI, evaluation.

The send is two steps on purpose. ``campaign_run`` / ``campaign_trigger_pass``
decide in one transaction who is contacted (eligibility, next best action,
control group, budget) and write the contact log; e-mails are only *queued*
there. ``email_queue_send`` delivers queued mails in throttled batches
outside any transaction and checks consent again just before each mail, so
a withdrawal between run and delivery is honoured.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.audit import audit_record, diff, snapshot
from stammkunde.core.bulk import bulk_insert
from stammkunde.core.errors import ApplicationError, ConflictError, validated
from stammkunde.customers.models import Channel, Consent, Customer, EmailAddress, Interaction
from stammkunde.customers.services import consent_record, customer_create, interaction_record

from . import selectors
from .models import (
    Campaign,
    CampaignContact,
    CampaignEvaluation,
    CampaignRun,
    DoiRequest,
    Segment,
    SegmentMember,
)
from .numeric.assignment import in_control
from .segments import rules_validate

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "stammkunde.campaigns.unsubscribe"
DOI_SALT = "stammkunde.campaigns.doi"
DOI_MAX_AGE = timedelta(days=7)
DOI_SOURCE = "double opt-in (signup form)"
DOI_CONSENT_TEXT = (
    "Yes, I would like to receive offers and news by email. I can withdraw this "
    "consent at any time via the link in every email."
)
CAMPAIGN_FIELDS = (
    "name", "description", "segment", "offer_kind", "offer_value", "offer_points", "offer_text",
    "channel", "trigger", "trigger_phase", "trigger_days", "scheduled_for", "is_advertising",
    "budget", "cost_per_contact", "offer_cost", "control_share", "horizon_days",
    "expected_uplift", "priority", "subject", "body",
)  # fmt: skip


def base_url() -> str:
    """Where customers reach the site (links in mails): setting, env, else localhost."""
    return (
        getattr(settings, "CAMPAIGNS_BASE_URL", "")
        or os.environ.get("STAMMKUNDE_BASE_URL", "")
        or "http://127.0.0.1:8000"
    ).rstrip("/")


# ------------------------------------------------------------------ segments


@transaction.atomic
def segment_save(
    *,
    actor: User | None,
    name: str,
    rules: dict[str, Any],
    mode: str = Segment.Mode.DYNAMIC,
    description: str = "",
    segment: Segment | None = None,
) -> Segment:
    """Create or change a segment; a frozen segment fixes its members now."""
    rules_validate(rules)
    if mode not in Segment.Mode.values:
        raise ApplicationError("Unknown mode.", field_errors={"mode": ["Unknown mode."]})
    creating = segment is None
    obj = segment or Segment(created_by=acting_user(actor))
    before = snapshot(obj, ["name", "rules", "mode"]) if not creating else {}
    obj.name, obj.rules, obj.mode, obj.description = name.strip(), rules, mode, description
    validated(obj, exclude=["members"])
    obj.save()
    if mode == Segment.Mode.FROZEN:
        segment_freeze(actor=actor, segment=obj)
    elif obj.frozen_at is not None:
        obj.memberships.all().delete()
        obj.frozen_at = None
        obj.save(update_fields=["frozen_at"])
    audit_record(
        actor=actor,
        action="create" if creating else "update",
        obj=obj,
        changes=diff(before, snapshot(obj, ["name", "rules", "mode"])),
    )
    return obj


@transaction.atomic
def segment_freeze(*, actor: User | None, segment: Segment) -> int:
    """Fix the segment's current matches as its members and return how many."""
    from .segments import segment_queryset

    segment.memberships.all().delete()
    ids = list(segment_queryset(segment.rules).values_list("pk", flat=True))
    bulk_insert(SegmentMember, ["segment", "customer"], ((segment.pk, c) for c in ids))
    segment.frozen_at = timezone.now()
    segment.save(update_fields=["frozen_at"])
    return len(ids)


# ----------------------------------------------------------------- campaigns


def _campaign_check(campaign: Campaign) -> None:
    if campaign.offer_kind == Campaign.Offer.VOUCHER and campaign.offer_value <= 0:
        raise ApplicationError(
            "A voucher needs a value.", field_errors={"offer_value": ["Give the voucher value."]}
        )
    if campaign.offer_kind == Campaign.Offer.POINTS and campaign.offer_points <= 0:
        raise ApplicationError(
            "A points bonus needs points.", field_errors={"offer_points": ["Give the points."]}
        )
    if campaign.trigger == Campaign.Trigger.PHASE_CHANGE and not campaign.trigger_phase:
        raise ApplicationError(
            "Which phase triggers the campaign?",
            field_errors={"trigger_phase": ["Choose a phase."]},
        )
    if campaign.trigger == Campaign.Trigger.AFTER_PURCHASE and not campaign.trigger_days:
        raise ApplicationError(
            "How many days after a purchase?", field_errors={"trigger_days": ["Give the days."]}
        )
    if campaign.channel == Campaign.Channel.EMAIL and not campaign.subject.strip():
        raise ApplicationError(
            "An email needs a subject.", field_errors={"subject": ["Give a subject."]}
        )
    if not 0 <= campaign.control_share < 1:
        raise ApplicationError(
            "The control share lies between 0 and 1.",
            field_errors={"control_share": ["Between 0 and 0.99."]},
        )


@transaction.atomic
def campaign_create(*, actor: User | None, data: dict[str, Any]) -> Campaign:
    """Create a campaign (switched off) from validated field values."""
    unknown = set(data) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ApplicationError(
            f"Unknown field(s): {', '.join(sorted(unknown))}",
            field_errors={f: ["Unknown field."] for f in unknown},
        )
    campaign = Campaign(created_by=acting_user(actor), **data)
    _campaign_check(campaign)
    validated(campaign)
    campaign.save()
    audit_record(
        actor=actor,
        action="create",
        obj=campaign,
        changes=snapshot(campaign, ["name", "channel", "offer_kind", "trigger"]),
    )
    return campaign


@transaction.atomic
def campaign_update(
    *,
    actor: User | None,
    campaign: Campaign,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> Campaign:
    """Change a campaign or playbook; refuse a stale edit."""
    unknown = set(data) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ApplicationError(
            f"Unknown field(s): {', '.join(sorted(unknown))}",
            field_errors={f: ["Unknown field."] for f in unknown},
        )
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError("Someone else changed this campaign meanwhile; reload.", code="stale")
    fields = [f for f in CAMPAIGN_FIELDS if f != "segment"] + ["segment_id"]
    before = snapshot(locked, fields)
    for key, value in data.items():
        setattr(locked, key, value)
    _campaign_check(locked)
    validated(locked)
    locked.version += 1
    locked.save()
    audit_record(
        actor=actor, action="update", obj=locked, changes=diff(before, snapshot(locked, fields))
    )
    return locked


@transaction.atomic
def campaign_status_set(*, actor: User | None, campaign: Campaign, status: str) -> Campaign:
    """Switch a campaign on, pause or finish it; switching on runs its triggers at once."""
    if status not in Campaign.Status.values:
        raise ApplicationError("Unknown status.", field_errors={"status": ["Unknown status."]})
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status == Campaign.Status.FINISHED and status != Campaign.Status.FINISHED:
        raise ApplicationError("A finished campaign cannot be switched on again.", code="finished")
    if status == Campaign.Status.ACTIVE and locked.channel == Campaign.Channel.PHONE:
        _call_queue()  # fail now, not at the first call task
    old = locked.status
    locked.status = status
    if status == Campaign.Status.ACTIVE and locked.activated_at is None:
        locked.activated_at = timezone.now()
    locked.version += 1
    locked.save()
    audit_record(actor=actor, action="update", obj=locked, changes={"status": [old, status]})
    if status == Campaign.Status.ACTIVE and locked.trigger != Campaign.Trigger.SCHEDULE:
        from .tasks import campaigns_trigger_pass, enqueue

        pk = locked.pk
        transaction.on_commit(lambda: enqueue(campaigns_trigger_pass, pk))
    return locked


def _call_queue() -> Any:
    from stammkunde.service.models import Queue

    name = getattr(settings, "CAMPAIGNS_CALL_QUEUE", "")
    queue = (Queue.objects.filter(name=name).first() if name else None) or Queue.objects.order_by(
        "id"
    ).first()
    if queue is None:
        raise ApplicationError(
            "Phone campaigns create call tasks in the service desk: create a queue first.",
            code="no_queue",
        )
    return queue


# ----------------------------------------------------------------------- send


def campaign_run(
    *, actor: User | None, campaign: Campaign, now: datetime | None = None
) -> CampaignRun:
    """Send a scheduled campaign to its audience now (customers not contacted yet)."""
    now = now or timezone.now()
    if campaign.status != Campaign.Status.ACTIVE:
        raise ApplicationError("Switch the campaign on before sending it.", code="not_active")
    if campaign.trigger != Campaign.Trigger.SCHEDULE:
        return campaign_trigger_pass(campaign=campaign, now=now, actor=actor)
    already = campaign.contacts.filter(occasion="").values("customer_id")
    audience = selectors.audience_queryset(campaign, now=now).exclude(pk__in=already)
    return _contacts_make(
        actor=actor, campaign=campaign, audience=audience, occasions=None, now=now
    )


def _trigger_occasions(campaign: Campaign, now: datetime) -> dict[int, str]:
    """Return customer id → occasion for the customers whose trigger fired (not yet served)."""
    from stammkunde.analytics.orm import AnalyticsEvent, PhaseChange
    from stammkunde.commerce.models import Order

    today = timezone.localdate(now)
    lookback = int(getattr(settings, "CAMPAIGNS_TRIGGER_LOOKBACK_DAYS", 7))
    start = today - timedelta(days=lookback)
    audience = selectors.audience_queryset(campaign, now=now)
    found: dict[int, str] = {}
    if campaign.trigger == Campaign.Trigger.PHASE_CHANGE:
        # The phase history, not only the events: the first scoring puts every
        # customer into a phase (from ""), and a playbook switched on then
        # should reach them too.
        changes = PhaseChange.objects.filter(
            changed_on__gte=start, to_phase=campaign.trigger_phase, customer__in=audience
        )
        for changed_on, cid in changes.order_by("changed_on", "id").values_list(
            "changed_on", "customer_id"
        ):
            found.setdefault(cid, f"phase:{changed_on.isoformat()}")
    elif campaign.trigger == Campaign.Trigger.RISK_CROSSING:
        events = AnalyticsEvent.objects.filter(
            occurred_on__gte=start,
            customer__in=audience,
            kind=AnalyticsEvent.Kind.RISK_CROSSED_THRESHOLD,
            payload__direction="up",
        )
        for event_id, cid in events.order_by("occurred_on", "id").values_list("id", "customer_id"):
            found.setdefault(cid, f"event:{event_id}")
    elif campaign.trigger == Campaign.Trigger.BIRTHDAY:
        for cid in audience.filter(
            birthday__month=today.month, birthday__day=today.day
        ).values_list("pk", flat=True):
            found[cid] = f"birthday:{today.year}"
    elif campaign.trigger == Campaign.Trigger.AFTER_PURCHASE:
        day = today - timedelta(days=campaign.trigger_days or 0)
        orders = Order.objects.filter(
            status=Order.Status.PAID, customer__in=audience, ordered_at__date=day
        )
        for order_id, cid in orders.order_by("id").values_list("id", "customer_id"):
            found.setdefault(cid, f"order:{order_id}")
    if found:
        served = set(
            campaign.contacts.filter(customer_id__in=list(found)).values_list(
                "customer_id", "occasion"
            )
        )
        found = {c: o for c, o in found.items() if (c, o) not in served}
    return found


def campaign_trigger_pass(
    *, campaign: Campaign, now: datetime | None = None, actor: User | None = None
) -> CampaignRun:
    """Contact the customers whose trigger fired since the last pass (each occasion once)."""
    now = now or timezone.now()
    occasions = _trigger_occasions(campaign, now)
    audience = Customer.objects.filter(pk__in=list(occasions))
    return _contacts_make(
        actor=actor, campaign=campaign, audience=audience, occasions=occasions, now=now
    )


@transaction.atomic
def _contacts_make(
    *,
    actor: User | None,
    campaign: Campaign,
    audience: QuerySet[Customer],
    occasions: dict[int, str] | None,
    now: datetime,
) -> CampaignRun:
    """Decide who is contacted (restraint, next best action, control, budget); log and act."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    run = CampaignRun.objects.create(campaign=campaign, started_at=now, actor=acting_user(actor))
    best = selectors.next_best_actions(audience, now=now)
    restraint = best.restraint
    j = next((i for i, c in enumerate(best.campaigns) if c.pk == campaign.pk), None)
    suppressed: Counter[str] = Counter()
    spent = sum(campaign.contacts.values_list("cost", flat=True), Decimal("0"))
    unit_cost = campaign.expected_cost
    share = float(campaign.control_share)
    rows: list[CampaignContact] = []
    budget_hit = False
    for cid in best.customer_ids.tolist():
        reason = restraint.reason(cid, campaign)
        if not reason:
            i = best.index[cid]
            winner = int(best.action[i])
            if j is None or winner != j:
                reason = "not_worth_it" if winner < 0 else "other_action_preferred"
        if reason:
            suppressed[reason] += 1
            continue
        control = in_control(campaign.assignment_key, cid, share)
        if not control and campaign.budget is not None and spent + unit_cost > campaign.budget:
            budget_hit = True
        if budget_hit:
            suppressed["budget"] += 1
            continue
        if not control:
            spent += unit_cost
        rows.append(
            CampaignContact(
                campaign=campaign,
                run=run,
                customer_id=cid,
                occasion=(occasions or {}).get(cid, ""),
                group=CampaignContact.Group.CONTROL if control else CampaignContact.Group.TREATMENT,
                status=CampaignContact.Status.HELD_OUT
                if control
                else CampaignContact.Status.QUEUED,
                channel=campaign.channel,
                contacted_at=now,
                cost=Decimal("0") if control else unit_cost,
                reason="" if control else f"score {float(best.score[best.index[cid]]):.2f}",
            )
        )
    CampaignContact.objects.bulk_create(rows)
    treated = [r for r in rows if r.group == CampaignContact.Group.TREATMENT]
    _offers_grant(campaign, treated, now=now)
    if campaign.channel == Campaign.Channel.LETTER:
        _letters_hand_over(campaign, treated, now=now, actor=actor)
    elif campaign.channel == Campaign.Channel.PHONE:
        _call_tasks_create(campaign, treated, now=now, actor=actor)
    elif treated:
        from .tasks import campaigns_email_dispatch, enqueue

        transaction.on_commit(lambda: enqueue(campaigns_email_dispatch))
    run.counts = {
        "audience": int(best.customer_ids.size),
        "treatment": len(treated),
        "control": len(rows) - len(treated),
        "suppressed": dict(suppressed),
    }
    run.save(update_fields=["counts"])
    return run


def _offers_grant(campaign: Campaign, treated: list[CampaignContact], *, now: datetime) -> None:
    """Issue the personal voucher or book the points bonus of each treated contact."""
    if campaign.offer_kind == Campaign.Offer.VOUCHER:
        from stammkunde.loyalty.services import voucher_issue

        for contact in treated:
            voucher = voucher_issue(
                actor=None,
                kind="amount",
                value=campaign.offer_value,
                valid_until=now + timedelta(days=campaign.horizon_days),
                valid_from=now,
                customer=contact.customer,
                reason=f"campaign {campaign.pk}: {campaign.name}"[:300],
            )
            contact.voucher_code = voucher.code
            contact.save(update_fields=["voucher_code"])
    elif campaign.offer_kind == Campaign.Offer.POINTS:
        from stammkunde.loyalty.models import LoyaltyAccount
        from stammkunde.loyalty.services import points_earn

        accounts = {
            a.customer_id: a
            for a in LoyaltyAccount.objects.filter(
                customer_id__in=[c.customer_id for c in treated]
            ).select_related("program")
        }
        for contact in treated:
            account = accounts.get(contact.customer_id)
            if account is None:
                continue  # not a member: the mail still goes out, without points
            points_earn(
                account=account,
                points=campaign.offer_points,
                at=now,
                idempotency_key=f"campaign:{campaign.pk}:{contact.customer_id}:{contact.occasion}",
                reason=f"campaign {campaign.name}"[:300],
                campaign=str(campaign.pk),
            )


def _timeline(
    contact: CampaignContact, campaign: Campaign, *, at: datetime, actor: User | None, summary: str
) -> None:
    interaction_record(
        customer=contact.customer,
        occurred_at=at,
        channel={"email": Channel.EMAIL, "letter": Channel.LETTER}.get(
            campaign.channel, Channel.PHONE
        ),
        direction=Interaction.Direction.OUTBOUND,
        kind="campaign",
        summary=summary,
        source=contact,
        actor=actor,
    )


def _letters_hand_over(
    campaign: Campaign, treated: list[CampaignContact], *, now: datetime, actor: User | None
) -> None:
    """Mark letters as handed to the mail house (the batch is the HTML/CSV export)."""
    CampaignContact.objects.filter(pk__in=[c.pk for c in treated]).update(
        status=CampaignContact.Status.SENT, sent_at=now
    )
    for contact in treated:
        _timeline(contact, campaign, at=now, actor=actor, summary=f"Letter: {campaign.name}")


def _call_tasks_create(
    campaign: Campaign, treated: list[CampaignContact], *, now: datetime, actor: User | None
) -> None:
    """Open one outbound call task per customer in the service desk, with the risk reasons."""
    from stammkunde.service.models import Priority, Ticket
    from stammkunde.service.services import ticket_create

    queue = _call_queue()
    due = now + timedelta(days=1)
    for contact in treated:
        customer = contact.customer
        body = "\n".join(
            [
                _("Please call %(name)s (%(number)s) by %(due)s.")
                % {
                    "name": customer.display_name,
                    "number": customer.number,
                    "due": timezone.localtime(due).strftime("%d.%m.%Y %H:%M"),
                },
                _("Campaign: %(name)s") % {"name": campaign.name},
                _("Offer: %(kind)s %(text)s")
                % {"kind": campaign.get_offer_kind_display(), "text": campaign.offer_text},
                _("Why the customer is at risk:"),
                selectors.risk_reasons_text(customer),
                campaign.body,
            ]
        ).strip()
        ticket = ticket_create(
            actor=actor,
            subject=(
                _("Call: %(name)s – %(campaign)s")
                % {"name": customer.display_name, "campaign": campaign.name}
            )[:200],
            body=body,
            queue=queue,
            customer=customer,
            type=Ticket.Type.OTHER,
            channel="phone",
            priority=Priority.HIGH,
            tags=["outbound-call", "campaign"],
            from_customer=False,
            now=now,
        )
        CampaignContact.objects.filter(pk=contact.pk).update(
            status=CampaignContact.Status.SENT, sent_at=now, ticket_id=ticket.pk
        )
        _timeline(
            contact,
            campaign,
            at=now,
            actor=actor,
            summary=f"Call task {ticket.number}: {campaign.name}",
        )


# --------------------------------------------------------------- email queue


def unsubscribe_token(*, customer_id: int, campaign_id: int) -> str:
    """Return the signed token of an unsubscribe link (no expiry: links must keep working)."""
    return signing.dumps({"c": customer_id, "k": campaign_id}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(*, customer_id: int, campaign_id: int) -> str:
    token = unsubscribe_token(customer_id=customer_id, campaign_id=campaign_id)
    return base_url() + reverse("campaigns:unsubscribe", args=[token])


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def email_compose(contact: CampaignContact, campaign: Campaign) -> EmailMessage:
    """Build the campaign mail with an unsubscribe link and one-click List-Unsubscribe."""
    customer = contact.customer
    values = _Blank(
        first_name=customer.first_name,
        last_name=customer.last_name,
        voucher_code=contact.voucher_code,
        points=str(campaign.offer_points),
    )
    url = unsubscribe_url(customer_id=customer.pk, campaign_id=campaign.pk)
    try:
        body = campaign.body.format_map(values)
        subject = campaign.subject.format_map(values)
    except (ValueError, IndexError, AttributeError):
        body, subject = campaign.body, campaign.subject  # a stray brace: send the text as written
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


def email_queue_send(*, limit: int | None = None, now: datetime | None = None) -> dict[str, int]:
    """Send up to ``limit`` queued campaign mails; return counts (sent, cancelled, failed, left).

    Not one transaction on purpose: each mail is sent outside any transaction
    and then marked, so a crash never marks unsent mail as sent. Consent and
    deliverability are checked again right before sending.
    """
    limit = limit or int(getattr(settings, "CAMPAIGNS_EMAIL_BATCH", 200))
    queued = list(
        CampaignContact.objects.filter(
            status=CampaignContact.Status.QUEUED, channel=Campaign.Channel.EMAIL
        )
        .select_related("customer", "campaign")
        .order_by("id")[:limit]
    )
    counts = {"sent": 0, "cancelled": 0, "failed": 0}
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
        connection = get_connection()
        for contact in queued:
            now_i = now or timezone.now()
            if contact.customer_id not in allowed or contact.customer_id not in addresses:
                CampaignContact.objects.filter(pk=contact.pk, status="queued").update(
                    status=CampaignContact.Status.CANCELLED, error="no consent or address"
                )
                counts["cancelled"] += 1
                continue
            contact.email_to = addresses[contact.customer_id]
            message = email_compose(contact, contact.campaign)
            message.connection = connection
            try:
                message.send()
            except Exception as exc:  # any transport error: keep the row, mark it failed
                log.warning("campaign mail %s failed: %s", contact.pk, exc)
                CampaignContact.objects.filter(pk=contact.pk).update(
                    status=CampaignContact.Status.FAILED, error=str(exc)[:300]
                )
                counts["failed"] += 1
                continue
            with transaction.atomic():
                CampaignContact.objects.filter(pk=contact.pk).update(
                    status=CampaignContact.Status.SENT, sent_at=now_i, email_to=contact.email_to
                )
                _timeline(
                    contact,
                    contact.campaign,
                    at=now_i,
                    actor=None,
                    summary=f"Email: {message.subject}"[:500],
                )
            counts["sent"] += 1
    counts["left"] = CampaignContact.objects.filter(
        status=CampaignContact.Status.QUEUED, channel=Campaign.Channel.EMAIL
    ).count()
    return counts


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
    CampaignContact.objects.filter(
        customer=customer, status=CampaignContact.Status.QUEUED, channel=Campaign.Channel.EMAIL
    ).update(status=CampaignContact.Status.CANCELLED, error="consent withdrawn")
    return customer


# ----------------------------------------------------------- double opt-in


def doi_token(request: DoiRequest) -> str:
    return signing.dumps({"r": request.pk, "e": request.email}, salt=DOI_SALT)


@transaction.atomic
def doi_request_create(
    *,
    email: str,
    first_name: str = "",
    last_name: str = "",
    ip: str | None = None,
    user_agent: str = "",
    now: datetime | None = None,
) -> DoiRequest:
    """Store a signup and send the confirmation mail (after commit).

    Nothing is consented yet: consent exists only after the link is confirmed.
    A repeated signup within 10 minutes sends no second mail.
    """
    from stammkunde.customers.normalize import normalize_email

    try:
        address = normalize_email(email)
    except Exception as exc:
        raise ApplicationError(
            "Please enter a valid email address.", field_errors={"email": ["Invalid email."]}
        ) from exc
    now = now or timezone.now()
    recent = DoiRequest.objects.filter(
        email=address, requested_at__gte=now - timedelta(minutes=10), confirmed_at__isnull=True
    ).first()
    if recent is not None:
        return recent
    request = DoiRequest.objects.create(
        email=address,
        first_name=first_name.strip()[:100],
        last_name=last_name.strip()[:100],
        requested_at=now,
        request_ip=ip or None,
        request_user_agent=user_agent[:300],
        consent_text=DOI_CONSENT_TEXT,
    )
    link = base_url() + reverse("campaigns:signup_confirm", args=[doi_token(request)])
    message = EmailMessage(
        subject="Bitte bestätigen Sie Ihre Anmeldung / Please confirm your signup",
        body=(
            "Bitte bestätigen Sie, dass Sie Angebote per E-Mail erhalten möchten:\n"
            f"{link}\n\nPlease confirm that you want to receive offers by email:\n{link}\n\n"
            "Wenn Sie sich nicht angemeldet haben, ignorieren Sie diese E-Mail. / "
            "If you did not sign up, ignore this email."
        ),
        to=[address],
    )
    transaction.on_commit(lambda: message.send(fail_silently=False))
    return request


@transaction.atomic
def doi_confirm(
    *, token: str, ip: str | None = None, user_agent: str = "", now: datetime | None = None
) -> DoiRequest:
    """Confirm a signup: find or create the customer and record the consent with its proof.

    Idempotent: confirming twice records one consent. Raises ApplicationError
    for a broken, forged or expired link.
    """
    try:
        data = signing.loads(token, salt=DOI_SALT, max_age=DOI_MAX_AGE)
        request = DoiRequest.objects.select_for_update().get(pk=int(data["r"]), email=data["e"])
    except signing.SignatureExpired as exc:
        raise ApplicationError(
            "This confirmation link has expired; sign up again.", code="expired"
        ) from exc
    except (signing.BadSignature, KeyError, ValueError, TypeError, DoiRequest.DoesNotExist) as exc:
        raise ApplicationError("This confirmation link is not valid.", code="bad_token") from exc
    if request.confirmed_at is not None:
        return request
    now = now or timezone.now()
    from stammkunde.customers.selectors import customer_matching_email

    customer = customer_matching_email(address=request.email)
    if customer is None:
        customer = customer_create(
            actor=None,
            first_name=request.first_name,
            last_name=request.last_name or request.email.split("@")[0],
            emails=[request.email],
            created_at=now,
        )
    request.confirmed_at, request.confirm_ip = now, ip or None
    request.confirm_user_agent, request.customer = user_agent[:300], customer
    request.save()
    proof = json.dumps(
        {
            "doi_request": request.pk,
            "email": request.email,
            "requested_at": request.requested_at.isoformat(),
            "request_ip": request.request_ip,
            "confirmed_at": now.isoformat(),
            "confirm_ip": request.confirm_ip,
            "confirm_user_agent": request.confirm_user_agent,
            "consent_text": request.consent_text,
        },
        ensure_ascii=False,
    )
    consent_record(
        actor=None,
        customer=customer,
        purpose=Consent.Purpose.MARKETING,
        channel=Channel.EMAIL,
        status=Consent.Status.GRANTED,
        source=DOI_SOURCE,
        proof=proof,
        at=now,
    )
    return request


# ----------------------------------------------------------------- schedule


def campaigns_dispatch_due(*, now: datetime | None = None) -> dict[str, int]:
    """Run what is due: scheduled sends whose time has come and every active trigger.

    Each campaign runs in its own transaction so one failure does not stop
    the others. Returns the number of new contacts per campaign id.
    """
    now = now or timezone.now()
    done: dict[str, int] = {}
    for campaign in Campaign.objects.filter(status=Campaign.Status.ACTIVE).order_by("priority"):
        if campaign.trigger == Campaign.Trigger.SCHEDULE:
            if campaign.scheduled_for is None or campaign.scheduled_for > now:
                continue
            if campaign.runs.exists():
                continue
        try:
            run = campaign_run(actor=None, campaign=campaign, now=now)
        except ApplicationError as exc:
            log.warning("campaign %s not run: %s", campaign.pk, exc.message)
            continue
        done[str(campaign.pk)] = run.counts.get("treatment", 0) + run.counts.get("control", 0)
    return done


# --------------------------------------------------------------- evaluation


def campaign_evaluate(
    *, campaign: Campaign, as_of: date | None = None, now: datetime | None = None
) -> CampaignEvaluation:
    """Compare treatment and control on the campaign's contacts and store the result.

    Outcomes per contacted customer within the horizon after the contact:
    response (a paid order), repurchase (two or more), revenue and margin
    (order lines × product margin rate), retention (an order or an active
    subscription at the horizon end). The uplift model is fitted on the same
    data (out-of-fold Qini) and kept on the campaign for the next run.
    """
    from .evaluation import evaluation_compute

    now = now or timezone.now()
    as_of = as_of or timezone.localdate(now)
    result = evaluation_compute(campaign=campaign, as_of=as_of)
    with transaction.atomic():
        evaluation = CampaignEvaluation.objects.create(
            campaign=campaign,
            computed_at=now,
            as_of=as_of,
            is_final=result.is_final,
            recommendation=result.summary["recommendation"],
            roi=result.summary.get("roi"),
            qini=result.summary.get("uplift", {}).get("qini"),
            summary=result.summary,
            curves=result.curves,
        )
        if result.uplift_model:
            Campaign.objects.filter(pk=campaign.pk).update(uplift_model=result.uplift_model)
    return evaluation


def campaigns_evaluate_due(*, today: date | None = None) -> list[int]:
    """Evaluate every campaign whose horizon has passed and has no final evaluation yet."""
    today = today or timezone.localdate()
    done = []
    for campaign in Campaign.objects.filter(contacts__isnull=False).distinct():
        last = (
            campaign.contacts.order_by("-contacted_at")
            .values_list("contacted_at", flat=True)
            .first()
        )
        if last is None or timezone.localdate(last) + timedelta(days=campaign.horizon_days) > today:
            continue
        if campaign.evaluations.filter(is_final=True).exists():
            continue
        campaign_evaluate(campaign=campaign, as_of=today)
        done.append(campaign.pk)
    return done
