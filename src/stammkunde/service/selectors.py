"""Reads of the service desk, always starting from ``Ticket.objects.visible_to``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from stammkunde.core.access import User, access_object
from stammkunde.core.navigation import customer_panels_for
from stammkunde.customers.models import Customer

from .fcr import later_contact_exists
from .models import (
    OPEN_STATUS_LIST,
    Attachment,
    GoodwillGrant,
    Macro,
    Message,
    Notification,
    Queue,
    ReplyTemplate,
    RootCause,
    Status,
    Ticket,
)

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
                | Q(customer__search_name__startswith=q.lower())
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
    return list(
        ticket.messages.select_related("author")
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


def ticket_page_context(*, user: User, ticket: Ticket) -> dict[str, Any]:
    """Everything the ticket page shows, in a fixed number of queries."""
    from . import sla

    language = ticket.customer.preferred_language if ticket.customer else "de"
    return {
        "ticket": ticket,
        "conversation": ticket_messages(ticket=ticket),
        "goodwill": list(ticket.goodwill.select_related("requested_by", "decided_by")),
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
    return {"tickets": tickets, "stats": stats}


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
