"""Service-desk test data built through the services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stammkunde.core.models import ServicePartner
from stammkunde.service import services
from stammkunde.service.models import BusinessCalendar, Category, Queue, Ticket

from ..customers.factories import CustomerFactory

# A Tuesday morning, inside the default opening hours (Mon-Fri 8-18 Berlin).
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def queue(
    name: str = "Support",
    *,
    partner: ServicePartner | None = None,
    calendar: BusinessCalendar | None = None,
) -> Queue:
    found = Queue.objects.filter(name=name).first()
    return found or Queue.objects.create(name=name, partner=partner, calendar=calendar)


def category(name: str = "Lieferung") -> Category:
    return Category.objects.get_or_create(name=name)[0]


def ticket(
    *,
    customer: Any = None,
    q: Queue | None = None,
    subject: str = "Kette springt",
    body: str = "Meine Kette springt seit dem Kauf.",
    now: datetime | None = None,
    **kwargs: Any,
) -> Ticket:
    if customer is None and "sender_email" not in kwargs:
        customer = CustomerFactory()
    return services.ticket_create(
        actor=None,
        subject=subject,
        body=body,
        queue=q or queue(),
        customer=customer,
        now=now or T0,
        **kwargs,
    )
