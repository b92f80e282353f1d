"""Reads of the service desk, always starting from ``Ticket.objects.visible_to``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from stammkunde.core.access import User, access_object
from stammkunde.core.hooks import hook_run
from stammkunde.core.navigation import customer_panels_for
from stammkunde.customers import selectors as customer_selectors

from .fcr import fcr_state, later_contact_exists
from .models import (
    OPEN_STATUS_LIST,
    Attachment,
    GoodwillGrant,
    Macro,
    Message,
    Notification,
    Priority,
    Queue,
    ReplyTemplate,
    RootCause,
    Status,
    Ticket,
)

if TYPE_CHECKING:
    from stammkunde.customers.models import Customer

INBOX_VIEWS = ("mine", "my_queues", "unassigned", "breaching", "waiting", "open", "all")
BREACHING_WINDOW = timedelta(hours=4)
_OPEN = list(OPEN_STATUS_LIST)
SIDEBAR_PANELS = ("analytics",)  # customer-page panels that the ticket sidebar shows too
COUNT_CAP = 100  # the inbox shows "99+": nobody needs an exact count of a huge backlog


@dataclass(frozen=True)
class InboxFilter:
    view: str = "mine"
    q: str = ""
    queue: int | None = None
    status: str = ""
    type: str = ""


def inbox_list(
    *, user: User, filters: InboxFilter, now: datetime | None = None
) -> QuerySet[Ticket]:
    """Return the visible tickets of one inbox view, newest first (breaching: due first).

    Every view filters on indexed columns; related rows come by ``select_related``
    so the number of queries does not depend on the page size.
    """
    now = now or timezone.now()
    qs = Ticket.objects.visible_to(user)
    view = filters.view if filters.view in INBOX_VIEWS else "mine"
    waiting = [Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY]
    if view == "mine":
        qs = qs.filter(assignee_id=user.pk, status__in=_OPEN)
    elif view == "my_queues":
        member_of = Queue.members.through.objects.filter(user_id=user.pk or 0).values("queue_id")
        qs = qs.filter(queue_id__in=member_of, status__in=_OPEN)
    elif view == "unassigned":
        qs = qs.filter(assignee__isnull=True, status__in=_OPEN)
    elif view == "breaching":
        qs = qs.filter(status__in=_OPEN, sla_due__isnull=False, sla_due__lte=now + BREACHING_WINDOW)
    elif view == "waiting":
        qs = qs.filter(status__in=waiting)
    elif view == "open":
        qs = qs.filter(status__in=_OPEN)
    q = filters.q.strip()
    if q:
        if q[:4].isdigit() and "-" in q:
            qs = qs.filter(number=q)
        else:
            qs = qs.filter(
                Q(subject__icontains=q)
                | Q(sender_email__startswith=q.lower())
                | Q(customer__search_name__startswith=customer_selectors.search_key(q))
            )
    if filters.queue:
        qs = qs.filter(queue_id=filters.queue)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.type:
        qs = qs.filter(type=filters.type)
    qs = qs.select_related("customer", "queue", "assignee", "category")
    if view == "breaching":
        return qs.order_by("sla_due", "-id")
    return qs.order_by("-id")


def inbox_page(
    qs: QuerySet[Ticket], *, after: int | None, size: int = 50, ordered_by_due: bool = False
) -> tuple[list[Ticket], int | None]:
    """Return one page and the cursor of the next (keyset on id; offset for the due view)."""
    if ordered_by_due:
        offset = after or 0
        rows = list(qs[offset : offset + size + 1])
        return rows[:size], offset + size if len(rows) > size else None
    if after is not None:
        qs = qs.filter(id__lt=after)
    rows = list(qs[: size + 1])
    return rows[:size], rows[size - 1].pk if len(rows) > size else None


def inbox_counts(*, user: User, now: datetime | None = None) -> dict[str, int]:
    """Return the number of tickets per inbox view, each capped at ``COUNT_CAP``.

    Every count is a LIMITed index scan on a partial index of open tickets, so
    the cost does not grow with the backlog.
    """
    now = now or timezone.now()
    qs = Ticket.objects.visible_to(user).filter(status__in=_OPEN)
    views = {
        "mine": qs.filter(assignee_id=user.pk),
        "unassigned": qs.filter(assignee__isnull=True),
        "breaching": qs.filter(sla_due__lte=now + BREACHING_WINDOW),
        "waiting": Ticket.objects.visible_to(user).filter(
            status__in=[Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY]
        ),
        "open": qs,
    }
    return {name: view.order_by().values("id")[:COUNT_CAP].count() for name, view in views.items()}


def ticket_get(*, user: User, pk: Any, for_update: bool = False) -> Ticket:
    """Return a visible ticket or raise 404 (same answer for missing and forbidden)."""
    return access_object(
        Ticket.objects.select_related(
            "customer",
            "queue__calendar",
            "queue__partner",
            "team",
            "assignee",
            "category",
            "root_cause",
            "order",
            "order_line__product",
            "product",
            "sla_policy",
            "follow_up_of",
            "merged_into",
            "split_from",
        ),
        user,
        pk=pk,
        for_update=for_update,
    )


def ticket_messages(*, ticket: Ticket) -> list[Message]:
    # "outbox": the delivery state of each outgoing message (channels), in the same query.
    return list(
        ticket.messages.select_related("author", "outbox")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def ticket_attachments(*, user: User, ticket: Ticket) -> list[Attachment]:
    return list(Attachment.objects.visible_to(user).filter(ticket=ticket))


def attachment_get(*, user: User, pk: Any) -> Attachment:
    """Return a visible attachment (through its ticket) or raise 404."""
    return access_object(Attachment.objects.select_related("ticket"), user, pk=pk)


def goodwill_get(*, user: User, pk: Any) -> GoodwillGrant:
    return access_object(
        GoodwillGrant.objects.select_related("ticket", "requested_by"), user, pk=pk
    )


def goodwill_pending(*, user: User) -> list[GoodwillGrant]:
    """Return the goodwill requests waiting for a decision that ``user`` can see."""
    return list(
        GoodwillGrant.objects.visible_to(user)
        .filter(status=GoodwillGrant.Status.REQUESTED)
        .select_related("ticket", "requested_by")[:50]
    )


def customer_sidebar(
    *, user: User, customer: Customer | None, exclude_ticket: int | None = None
) -> dict[str, Any]:
    """Return the customer 360 summary for the ticket page: value, open tickets, orders."""
    if customer is None:
        return {}
    from stammkunde.commerce.models import Order

    open_tickets = list(
        Ticket.objects.visible_to(user)
        .filter(customer=customer, status__in=_OPEN)
        .exclude(pk=exclude_ticket or 0)
        .only("id", "number", "subject", "status")[:10]
    )
    orders = list(
        Order.objects.visible_to(user).filter(customer=customer).order_by("-ordered_at")[:5]
    )
    recent = list(
        Ticket.objects.visible_to(user)
        .filter(customer=customer)
        .exclude(pk=exclude_ticket or 0)
        .order_by("-created_at")
        .only("id", "number", "subject", "status", "created_at")[:5]
    )
    return {
        "customer": customer,
        "open_tickets": open_tickets,
        "orders": orders,
        "recent_tickets": recent,
        # churn risk, CLV and phase come from the analytics app's panel when it exists
        "panels": customer_panels_for(customer, user, keys=SIDEBAR_PANELS),
    }


def goodwill_with_payouts(grants: list[GoodwillGrant]) -> list[GoodwillGrant]:
    """Attach ``payout`` (voucher code and status, or None) to each grant.

    The loyalty app issues the vouchers; it answers through the ``goodwill_payouts`` hook.
    """
    found: dict[int, dict[str, Any]] = {}
    if grants:
        hook_run("goodwill_payouts", grants=grants, found=found)
    for grant in grants:
        grant.payout = found.get(grant.pk)  # type: ignore[attr-defined]
    return grants


def ticket_survey_state(ticket: Ticket) -> dict[str, Any] | None:
    """Whether a satisfaction survey is planned, sent or answered for ``ticket``.

    The feedback app answers through the ``ticket_survey_state`` hook; None without it.
    """
    found: dict[str, Any] = {}
    hook_run("ticket_survey_state", ticket=ticket, found=found)
    return found.get("survey")


def ticket_page_context(*, user: User, ticket: Ticket) -> dict[str, Any]:
    """Everything the ticket page shows, in a fixed number of queries."""
    from . import sla

    language = ticket.customer.preferred_language if ticket.customer else "de"
    return {
        "ticket": ticket,
        "conversation": ticket_messages(ticket=ticket),
        "goodwill": goodwill_with_payouts(
            list(ticket.goodwill.select_related("requested_by", "decided_by"))
        ),
        "fcr": fcr_state(ticket),
        "survey": ticket_survey_state(ticket),
        "sla": sla.sla_state(ticket),
        "sidebar": customer_sidebar(user=user, customer=ticket.customer, exclude_ticket=ticket.pk),
        "templates": sorted(
            ReplyTemplate.objects.filter(active=True),
            key=lambda t: (t.language != language, t.name),
        ),
        "macros": list(Macro.objects.all()),
        "root_causes": list(RootCause.objects.filter(active=True)),
        "queues": list(Queue.objects.visible_to(user)),
        "tags": list(ticket.tags.values_list("name", flat=True)),
        "articles": list(ticket.articles.select_related("article")),
    }


def customer_tickets_context(customer: Customer, user: User) -> dict[str, Any]:
    """The "Tickets" panel on the customer page."""
    tickets = list(
        Ticket.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("queue", "assignee")
        .order_by("-created_at")[:10]
    )
    stats = (
        Ticket.objects.visible_to(user)
        .filter(customer=customer)
        .aggregate(total=Count("id"), open=Count("id", filter=Q(status__in=_OPEN)))
    )
    goodwill = list(
        GoodwillGrant.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("ticket")
        .order_by("-requested_at")[:10]
    )
    return {"tickets": tickets, "stats": stats, "goodwill": goodwill_with_payouts(goodwill)}


def notifications_for(*, user: User, limit: int = 20) -> list[Notification]:
    """Return the unread notifications of a user, newest first."""
    return list(
        Notification.objects.filter(user_id=user.pk or 0, read_at__isnull=True).select_related(
            "ticket"
        )[:limit]
    )


# -- Reports: FCR, SLA, root causes -------------------------------------------------

FCR_DIMENSIONS = {
    "channel": "channel",
    "agent": "assignee__username",
    "queue": "queue__name",
    "category": "category__name",
}


def _decided(user: User, since: datetime | None, until: datetime | None) -> QuerySet[Ticket]:
    qs = Ticket.objects.visible_to(user).filter(solved_at__isnull=False, merged_into__isnull=True)
    if since:
        qs = qs.filter(solved_at__gte=since)
    if until:
        qs = qs.filter(solved_at__lt=until)
    return qs


def fcr_report(
    *, user: User, by: str, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Return FCR per channel, agent, queue or category for tickets solved in the period.

    Definition (docs/service-desk.md): solved after one customer contact and no
    further contact about the same order or category within 7 days.
    """
    if by not in FCR_DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(FCR_DIMENSIONS)}")
    rows = (
        _decided(user, since, until)
        .annotate(_later=later_contact_exists(), key=F(FCR_DIMENSIONS[by]))
        .values("key")
        .annotate(
            solved=Count("id"), fcr=Count("id", filter=Q(first_contact_resolved=True, _later=False))
        )
        .order_by("key")
    )
    return [
        {
            "key": r["key"] or "–",
            "solved": r["solved"],
            "fcr": r["fcr"],
            "rate": r["fcr"] / r["solved"] if r["solved"] else None,
        }
        for r in rows
    ]


def fcr_total(
    *, user: User, since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    row = (
        _decided(user, since, until)
        .annotate(_later=later_contact_exists())
        .aggregate(
            solved=Count("id"), fcr=Count("id", filter=Q(first_contact_resolved=True, _later=False))
        )
    )
    row["rate"] = row["fcr"] / row["solved"] if row["solved"] else None
    return row


def sla_report(
    *, user: User, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Return tickets created per queue with first-response and resolution breaches."""
    qs = Ticket.objects.visible_to(user).filter(merged_into__isnull=True)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    rows = (
        qs.values("queue__name")
        .annotate(
            tickets=Count("id"),
            first_response_breached=Count("id", filter=Q(first_response_breached=True)),
            resolution_breached=Count("id", filter=Q(resolution_breached=True)),
            open=Count("id", filter=Q(status__in=_OPEN)),
        )
        .order_by("queue__name")
    )
    return [
        {**r, "breach_rate": (r["resolution_breached"] / r["tickets"]) if r["tickets"] else None}
        for r in rows
    ]


def root_cause_report(*, user: User, since: datetime | None = None) -> list[dict[str, Any]]:
    """Return how often each root cause was given, most frequent first."""
    qs = Ticket.objects.visible_to(user).filter(root_cause__isnull=False)
    if since:
        qs = qs.filter(closed_at__gte=since)
    rows = (
        qs.values("root_cause__name")
        .annotate(tickets=Count("id"))
        .order_by("-tickets", "root_cause__name")
    )
    return [dict(r) for r in rows]


def article_usage_counts(*, article_ids: Iterable[int]) -> dict[int, int]:
    """Return, per article, in how many solved or closed tickets it was used."""
    from stammkunde.knowledge.selectors import article_usage_counts as counts

    return counts(article_ids=list(article_ids))


def customer_data_export(customer: Customer, *, emails: Iterable[str] = ()) -> dict[str, Any]:
    """The service desk's data about ``customer`` (Art. 15): tickets with messages,
    attachments (content in base64), goodwill; ``emails`` adds unmatched tickets
    the person sent from one of their addresses."""
    import base64

    from stammkunde.core.personal import rows

    tickets = Ticket.objects.filter(Q(customer=customer) | Q(sender_email__in=list(emails)))
    ids = tickets.values("id")
    attachments = rows(Attachment.objects.filter(ticket__in=ids))
    for item in attachments:
        found = Attachment.objects.get(pk=item["id"])
        try:
            with found.file.open("rb") as fh:
                item["content_base64"] = base64.b64encode(fh.read()).decode("ascii")
        except (OSError, ValueError):
            item["content_base64"] = None
    return {
        "tickets": rows(tickets),
        "ticket_messages": rows(Message.objects.filter(ticket__in=ids)),
        "ticket_attachments": attachments,
        "goodwill": rows(GoodwillGrant.objects.filter(ticket__in=ids)),
    }


# ------------------------------------------------------------------ reads for other apps


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def ticket_churn_signals(
    *, until: datetime, customer_id_range: tuple[int, int] | None = None
) -> QuerySet[Any]:
    """Return one row per customer ticket up to ``until`` for the churn model.

    Rows are ``(customer_id, created_at, complaint, sla_breached, reopened,
    fcr_failed)`` with 0/1 flags, as a ``values_list`` queryset so that the
    caller can stream it set-based (analytics reads it with COPY). What counts
    as a complaint or a reopened ticket is decided here, next to the model:
    a ticket that went from solved back to reopened keeps ``fcr_reason =
    reopened`` for good (see ``services.ticket_state``).
    """
    qs = Ticket.objects.filter(customer__isnull=False, created_at__lte=until)
    if customer_id_range is not None:
        qs = qs.filter(customer_id__gte=customer_id_range[0], customer_id__lte=customer_id_range[1])
    return qs.annotate(
        complaint=_flag(Q(type__in=[Ticket.Type.COMPLAINT, Ticket.Type.CLAIM])),
        sla_breached=_flag(
            Q(first_response_breached=True)
            | Q(next_response_breached=True)
            | Q(resolution_breached=True)
        ),
        reopened=_flag(Q(fcr_reason=Ticket.FcrReason.REOPENED)),
        fcr_failed=_flag(Q(first_contact_resolved=False)),
    ).values_list(
        "customer_id", "created_at", "complaint", "sla_breached", "reopened", "fcr_failed"
    )


def ticket_scorecard_rows(
    *, user: User, since: datetime, partner_id: int | None = None
) -> QuerySet[Any]:
    """Return the tickets ``user`` may see created since ``since`` as partner-scorecard rows.

    Each row (a dict) holds ``created_at``, ``partner_name`` (of the ticket's
    queue; None for the own team) and the service desk's own reading of the
    ticket: ``solved`` (solved or closed), ``reopened`` (reopened now or once
    after it was solved), ``breached`` (any SLA time missed), ``has_sla`` (an
    SLA policy applied) as 0/1, and ``first_contact_resolved`` (None while open).
    """
    qs = Ticket.objects.visible_to(user).filter(created_at__gte=since)
    if partner_id is not None:
        qs = qs.filter(queue__partner_id=partner_id)
    return (
        qs.order_by()
        .annotate(
            partner_name=F("queue__partner__name"),
            solved=_flag(Q(status__in=[Status.SOLVED, Status.CLOSED])),
            reopened=_flag(Q(status=Status.REOPENED) | Q(fcr_reason=Ticket.FcrReason.REOPENED)),
            breached=_flag(
                Q(first_response_breached=True)
                | Q(next_response_breached=True)
                | Q(resolution_breached=True)
            ),
            has_sla=_flag(Q(sla_policy__isnull=False)),
        )
        .values(
            "created_at",
            "partner_name",
            "solved",
            "reopened",
            "breached",
            "has_sla",
            "first_contact_resolved",
        )
    )


# --- reads for the channels and feedback apps -------------------------------------------

# Choices other apps pass to service.services or compare with are part of the public face,
# so that no other app imports service.models for them.
MessageKind = Message.Kind
MessageDirection = Message.Direction
TicketType = Ticket.Type
TicketPriority = Priority


def ticket_current(*, pk: int | None = None, number: str = "") -> Ticket | None:
    """The ticket by id or number, following merges to the ticket that lives on; or None.

    A system read (no user): inbound mail threads onto a ticket by its ids or number.
    """
    if pk is not None:
        ticket = Ticket.objects.filter(pk=pk).first()
    elif number:
        ticket = Ticket.objects.filter(number=number).first()
    else:
        return None
    seen: set[int] = set()
    while ticket is not None and ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first()
    return ticket


def queue_first(*, name: str = "", internal: bool = False) -> Queue | None:
    """The queue called ``name``, else the oldest queue (``internal``: of no service partner)."""
    queue = Queue.objects.filter(name=name).first() if name else None
    if queue is None:
        qs = Queue.objects.filter(partner__isnull=True) if internal else Queue.objects.all()
        queue = qs.order_by("id").first()
    return queue


def tickets_solved_between(*, after: datetime, until: datetime) -> QuerySet[Ticket]:
    """Customer tickets solved in (``after``, ``until``], oldest first, with their customer."""
    return (
        Ticket.objects.filter(
            customer__isnull=False,
            solved_at__isnull=False,
            solved_at__gt=after,
            solved_at__lte=until,
        )
        .select_related("customer")
        .order_by("solved_at", "id")
    )


def ticket_ids_of_customer(*, customer_id: int) -> QuerySet[Any]:
    """The ids of the customer's tickets, as a subquery (``values("id")``)."""
    return Ticket.objects.filter(customer_id=customer_id).values("id")


def public_replies_between(
    *, since: datetime, until: datetime, channels: Iterable[str]
) -> QuerySet[Message]:
    """Public outbound messages (agent replies) on ``channels`` created in [since, until]."""
    return Message.objects.filter(
        kind=Message.Kind.PUBLIC,
        direction=Message.Direction.OUTBOUND,
        channel__in=list(channels),
        created_at__gte=since,
        created_at__lte=until,
    ).select_related("ticket")


def attachments_by_ids(*, ids: Iterable[int]) -> list[Attachment]:
    """The attachments among ``ids``, oldest first (a system read: the outbox mails them)."""
    return list(Attachment.objects.filter(pk__in=list(ids)).order_by("id"))


def inbound_message_texts(*, since: datetime, limit: int) -> list[str]:
    """Bodies of inbound (customer) messages since ``since``, newest first, at most ``limit``."""
    return list(
        Message.objects.filter(direction=Message.Direction.INBOUND, created_at__gte=since)
        .order_by("-created_at")
        .values_list("body", flat=True)[:limit]
    )


def inbound_message_bodies_by_customer(*, start: datetime, end: datetime) -> QuerySet[Any]:
    """(customer id, body) of inbound messages on customer tickets in [start, end]."""
    return Message.objects.filter(
        direction=Message.Direction.INBOUND,
        created_at__gte=start,
        created_at__lte=end,
        ticket__customer__isnull=False,
    ).values_list("ticket__customer_id", "body")
