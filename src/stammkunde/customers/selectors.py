"""Reads of customers, always starting from the access predicate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet

from stammkunde.core.access import User, access_object
from stammkunde.core.models import AuditEntry
from stammkunde.core.navigation import customer_list_filters

from .models import Consent, Customer, EmailAddress, Interaction, PhoneNumber
from .normalize import normalize_phone


@dataclass(frozen=True)
class CustomerFilter:
    q: str = ""
    kind: str = ""
    value_class: str = ""
    tag: str = ""
    prospect: str = ""  # "yes", "no" or ""
    # (param, value) for filters registered by other apps (core.navigation).
    extra: tuple[tuple[str, str], ...] = ()


def customer_list(*, user: User, filters: CustomerFilter) -> QuerySet[Customer]:
    """Return the visible customers matching search and filters, newest first.

    Search is by exact customer number, email prefix, phone or name prefix; each
    uses an index so that the list stays fast at a million customers.
    """
    qs = Customer.objects.visible_to(user).filter(merged_into__isnull=True)
    q = filters.q.strip()
    if q:
        lowered = q.lower()
        if "@" in q:
            qs = qs.filter(
                id__in=EmailAddress.objects.filter(address__startswith=lowered).values(
                    "customer_id"
                )
            )
        elif q.upper().startswith("K") and q[1:].isdigit():
            qs = qs.filter(number=q.upper())
        elif q.lstrip("+").replace(" ", "").replace("/", "").isdigit():
            try:
                number = normalize_phone(q)
            except ValidationError:
                return Customer.objects.none()
            qs = qs.filter(id__in=PhoneNumber.objects.filter(number=number).values("customer_id"))
        else:
            qs = qs.filter(search_name__startswith=lowered)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.value_class:
        qs = qs.filter(value_class=filters.value_class)
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag)
    if filters.prospect == "yes":
        qs = qs.filter(first_purchase_at__isnull=True)
    elif filters.prospect == "no":
        qs = qs.filter(first_purchase_at__isnull=False)
    chosen = dict(filters.extra)
    for extra in customer_list_filters():
        value = chosen.get(extra.param, "")
        if value and value in {v for v, _ in extra.choices()}:
            qs = extra.apply(qs, value)
    return qs.prefetch_related(
        Prefetch("emails", queryset=EmailAddress.objects.filter(is_primary=True))
    ).order_by("-id")


def customer_page(
    qs: QuerySet[Customer], *, after: int | None, size: int = 50
) -> tuple[list[Customer], int | None]:
    """Return one keyset page (ids below ``after``) and the cursor of the next page."""
    if after is not None:
        qs = qs.filter(id__lt=after)
    rows = list(qs[: size + 1])
    next_after = rows[size - 1].pk if len(rows) > size else None
    return rows[:size], next_after


def customer_get(*, user: User, pk: Any) -> Customer:
    """Return a visible customer or raise 404 (same answer for missing and forbidden)."""
    return access_object(
        Customer.objects.prefetch_related(
            "emails", "phones", "addresses", "tags", "contact_persons"
        ),
        user,
        pk=pk,
    )


def consent_current(*, customer: Customer) -> list[Consent]:
    """Return the latest consent record per (purpose, channel)."""
    latest: dict[tuple[str, str], Consent] = {}
    for consent in customer.consents.order_by("-at", "-id"):
        latest.setdefault((consent.purpose, consent.channel), consent)
    return sorted(latest.values(), key=lambda c: (c.purpose, c.channel))


def consent_granted(*, customer_id: int, purpose: str, channel: str) -> bool:
    """Return True when the latest consent for purpose and channel is granted."""
    latest = (
        Consent.objects.filter(customer_id=customer_id, purpose=purpose, channel=channel)
        .order_by("-at", "-id")
        .values_list("status", flat=True)
        .first()
    )
    return latest == Consent.Status.GRANTED


def consented_customer_ids(*, purpose: str, channel: str) -> QuerySet[Any]:
    """Return the ids of customers whose latest consent for purpose/channel is granted."""
    from django.db.models import OuterRef, Subquery

    latest_status = Subquery(
        Consent.objects.filter(customer_id=OuterRef("pk"), purpose=purpose, channel=channel)
        .order_by("-at", "-id")
        .values("status")[:1]
    )
    return (
        Customer.objects.annotate(_consent=latest_status)
        .filter(_consent=Consent.Status.GRANTED)
        .values("id")
    )


def timeline(*, customer: Customer, offset: int = 0, limit: int = 30) -> list[Interaction]:
    """Return timeline entries of a customer, newest first, ``limit`` at a time."""
    qs = customer.interactions.select_related("actor").order_by("-occurred_at", "-id")
    return list(qs[offset : offset + limit])


def audit_entries_for_customer(*, customer: Customer, limit: int = 50) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(customer_id=customer.pk).select_related("actor")[:limit])


def customer_matching_email(*, address: str) -> Customer | None:
    """Return the customer an email address belongs to (oldest wins on duplicates)."""
    row = (
        EmailAddress.objects.filter(
            address=address.strip().lower(), customer__merged_into__isnull=True
        )
        .order_by("customer_id")
        .select_related("customer")
        .first()
    )
    return row.customer if row else None
