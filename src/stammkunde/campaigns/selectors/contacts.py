"""The contact log: delivery read from the outbox, costs, summaries, call tasks, DSGVO export."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _lazy

from stammkunde.customers.models import Consent, Customer

from ..models import Campaign, CampaignContact

DELIVERED = "sent"
# States that still hold their share of the budget: the mail may yet go out.
PENDING_STATES = ("queued", "sending", "deferred")


def contact_delivery(contacts: QuerySet[CampaignContact]) -> Any:
    """Annotate each contact with its mail's delivery, read from the outbox.

    ``delivery`` is one of queued, sending, deferred, sent, failed, bounced,
    cancelled or held_out: the outbox state when the mail was handed to the
    outbox, the contact's own status otherwise (letters, calls, control group,
    mails not handed over yet). Typed ``Any``: the annotations are no model fields.
    """
    from django.db.models import Case, CharField, F, Value, When

    from stammkunde.channels.selectors import outbox_reference_subquery

    def ref(field: str) -> Any:
        return outbox_reference_subquery(kind="campaign", field=field)

    return contacts.annotate(
        outbox_status=ref("status"),
        outbox_attempts=ref("attempts"),
        outbox_next_at=ref("next_attempt_at"),
        outbox_error=ref("last_error"),
        outbox_sent_at=ref("sent_at"),
        outbox_subject=ref("subject"),
    ).annotate(
        delivery=Case(
            When(outbox_status="queued", outbox_attempts__gt=0, then=Value("deferred")),
            When(outbox_status__isnull=False, then=F("outbox_status")),
            default=F("status"),
            output_field=CharField(),
        )
    )


def campaign_cost_committed(campaign: Campaign) -> Decimal:
    """Cost booked (delivered) plus cost reserved by mails that may still go out (budget)."""
    rows = contact_delivery(campaign.contacts.filter(group=CampaignContact.Group.TREATMENT))
    total = rows.filter(delivery__in=(DELIVERED, *PENDING_STATES)).aggregate(s=Sum("cost"))["s"]
    return total or Decimal("0")


DELIVERY_LABELS = {
    "queued": _lazy("queued"),
    "sending": _lazy("sending"),
    "deferred": _lazy("deferred"),
    "sent": _lazy("sent"),
    "failed": _lazy("failed"),
    "bounced": _lazy("bounced"),
    "cancelled": _lazy("cancelled before sending"),
    "held_out": _lazy("held out (control)"),
}


def campaign_contacts_summary(campaign: Campaign, *, recipients: int = 50) -> dict[str, Any]:
    """Contact counts for the campaign page, honest about delivery.

    ``contacted`` counts treated customers whose message was delivered (mail
    accepted by the relay and not bounced, letter handed over, call task
    opened); ``cost`` books only those. ``delivery`` counts every state, and
    ``recipients`` lists the newest contacts with their state and reason.
    """
    rows = contact_delivery(campaign.contacts.all())
    out: dict[str, Any] = {"treatment": 0, "control": 0, "by_status": {}}
    for r in rows.values("group", "delivery").annotate(n=Count("id")).order_by():
        out[r["group"]] += r["n"]
        out["by_status"][r["delivery"]] = out["by_status"].get(r["delivery"], 0) + r["n"]
    treated = rows.filter(group=CampaignContact.Group.TREATMENT)
    delivered = treated.filter(delivery=DELIVERED)
    out["contacted"] = delivered.count()
    out["cost"] = delivered.aggregate(s=Sum("cost"))["s"] or Decimal("0")
    by = out["by_status"]
    out["delivery"] = {
        "queued": by.get("queued", 0) + by.get("sending", 0),
        "deferred": by.get("deferred", 0),
        "sent": by.get("sent", 0),
        "failed": by.get("failed", 0),
        "bounced": by.get("bounced", 0),
        "cancelled": by.get("cancelled", 0),
    }
    out["status_rows"] = [
        {"key": k, "label": DELIVERY_LABELS.get(k, k), "n": n} for k, n in sorted(by.items())
    ]
    out["recipients"] = [
        {
            "customer": c.customer,
            "group": c.get_group_display(),
            "channel": c.get_channel_display(),
            "to": c.email_to,
            "state": c.delivery,
            "label": DELIVERY_LABELS.get(c.delivery, c.delivery),
            "next_at": c.outbox_next_at if c.delivery == "deferred" else None,
            "reason": c.outbox_error or c.error,
            "at": c.outbox_sent_at or c.sent_at,
        }
        for c in rows.select_related("customer").order_by("-contacted_at", "-id")[:recipients]
    ]
    return out


def campaign_call_tasks(campaign: Campaign, *, limit: int = 50) -> list[dict[str, Any]]:
    """Return the newest call tasks a phone campaign opened (ticket number, customer, status)."""
    from stammkunde.service.models import Ticket

    ids = [
        int(t)
        for t in campaign.contacts.filter(ticket_id__isnull=False)
        .order_by("-contacted_at", "-id")
        .values_list("ticket_id", flat=True)[:limit]
        if t is not None
    ]
    tickets = Ticket.objects.filter(pk__in=ids).select_related("customer").order_by("-id")
    return [
        {
            "number": t.number,
            "customer": t.customer,
            "status": t.get_status_display(),
            "subject": t.subject,
        }
        for t in tickets
    ]


def campaign_send_job(campaign: Campaign) -> dict[str, Any] | None:
    """The campaign's newest send job (``campaigns.send``) for its page; None if it has none.

    ``active`` while it is queued or running (with its ``progress``);
    ``failed`` when it failed or was not sent and no run of the campaign came
    after it. A send that is done shows as a run of the campaign.
    """
    from stammkunde.core.jobs.models import Job
    from stammkunde.core.jobs.selectors import job_progress

    job = (
        Job.objects.filter(kind="campaigns.send", params__campaign_id=campaign.pk)
        .order_by("-id")
        .first()
    )
    if job is None:
        return None
    active = job.status in Job.ACTIVE
    failed = (
        job.status in (Job.Status.FAILED, Job.Status.NOT_SENT)
        and not campaign.runs.filter(started_at__gte=job.created_at).exists()
    )
    return {
        "job": job,
        "active": active,
        "failed": failed,
        "progress": job_progress(job) if active else None,
    }


def call_tasks_filter() -> Q:
    """The tickets that are campaign call tasks (tag ``outbound-call``)."""
    return Q(tags__name="outbound-call")


def customer_data_export(customer: Customer, *, emails: Any = ()) -> dict[str, Any]:
    """Campaign assignments and contacts, segment memberships, double opt-in records."""
    from stammkunde.core.personal import rows

    from ..models import DoiRequest, SegmentMember

    return {
        "campaign_contacts": rows(CampaignContact.objects.filter(customer=customer)),
        "segment_memberships": rows(SegmentMember.objects.filter(customer=customer)),
        "double_opt_in": rows(
            DoiRequest.objects.filter(Q(customer=customer) | Q(email__in=list(emails)))
        ),
    }


def unsubscribe_state(token: str) -> str:
    """Return "invalid", "withdrawn" (already: a second click) or "active" for a link token."""
    from django.core import signing

    from stammkunde.customers.selectors import consent_granted

    from ..services import UNSUBSCRIBE_SALT

    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        customer_id = int(data["c"])
    except (signing.BadSignature, KeyError, ValueError, TypeError):
        return "invalid"
    if not Customer.objects.filter(pk=customer_id).exists():
        return "invalid"
    withdrawn = Consent.objects.filter(
        customer_id=customer_id, purpose="marketing", channel="email", status="withdrawn"
    ).exists()
    granted = consent_granted(customer_id=customer_id, purpose="marketing", channel="email")
    return "withdrawn" if withdrawn and not granted else "active"
