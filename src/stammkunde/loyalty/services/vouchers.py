"""Vouchers: issue, batches, quote and single use under the voucher's row lock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from stammkunde.core.access import User
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ConflictError
from stammkunde.customers.models import Customer

from .. import lock_objects
from ..cards import random_code
from ..models import (
    Voucher,
    VoucherBatch,
    VoucherRedemption,
)
from ._common import CENT, _currency_check, _fail, _key_check, _signed_in, amount_parse


def _voucher_build(
    *,
    kind: str,
    value: Any,
    valid_from: dt.datetime | None,
    valid_until: dt.datetime | None,
    min_order: Any,
    max_uses: int,
    per_customer_limit: int | None,
    currency: str,
) -> dict[str, Any]:
    if kind not in Voucher.Kind.values:
        raise _fail("kind", "Choose amount or percent.")
    amount = amount_parse(value, field="value", allow_zero=False)
    if kind == Voucher.Kind.PERCENT and amount > 100:
        raise _fail("value", "A percentage cannot exceed 100.")
    if not isinstance(max_uses, int) or isinstance(max_uses, bool) or max_uses < 1:
        raise _fail("max_uses", "At least one use.")
    if per_customer_limit is not None and per_customer_limit < 1:
        raise _fail("per_customer_limit", "At least one use per customer, or empty.")
    valid_from = valid_from or timezone.now()
    if valid_until is not None and valid_until <= valid_from:
        raise _fail("valid_until", "The end must lie after the start.")
    _currency_check("EUR", currency)
    return {
        "kind": kind,
        "value": amount,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "min_order": amount_parse(min_order, field="min_order"),
        "max_uses": max_uses,
        "per_customer_limit": per_customer_limit,
        "currency": currency,
    }


@transaction.atomic
def voucher_issue(
    *,
    actor: User | None,
    kind: str,
    value: Any,
    valid_until: dt.datetime | None = None,
    valid_from: dt.datetime | None = None,
    min_order: Any = "0",
    max_uses: int = 1,
    per_customer_limit: int | None = None,
    customer: Customer | None = None,
    ticket_id: int | None = None,
    reason: str = "",
    currency: str = "EUR",
    issue_key: str | None = None,
) -> Voucher:
    """Create one voucher with an unguessable code (once per ``issue_key`` when given)."""
    if issue_key and (found := Voucher.objects.filter(issue_key=issue_key).first()):
        return found
    terms = _voucher_build(
        kind=kind,
        value=value,
        valid_from=valid_from,
        valid_until=valid_until,
        min_order=min_order,
        max_uses=max_uses,
        per_customer_limit=per_customer_limit,
        currency=currency,
    )
    try:
        with transaction.atomic():
            voucher = Voucher.objects.create(
                code=random_code(12),
                issue_key=issue_key or None,
                customer=customer,
                ticket_id=ticket_id,
                reason=reason,
                issued_by=_signed_in(actor),
                **terms,
            )
    except IntegrityError:
        # A twin request issued it between the look-up and the insert: answer with that one.
        if issue_key and (found := Voucher.objects.filter(issue_key=issue_key).first()):
            return found
        raise
    audit_record(
        actor=actor,
        action="create",
        obj=voucher,
        customer_id=customer.pk if customer else None,
        changes={"kind": [None, kind], "value": [None, str(terms["value"])]},
    )
    return voucher


@transaction.atomic
def voucher_batch_create(
    *,
    actor: User | None,
    name: str,
    count: int,
    kind: str,
    value: Any,
    valid_until: dt.datetime | None = None,
    valid_from: dt.datetime | None = None,
    min_order: Any = "0",
    max_uses: int = 1,
    per_customer_limit: int | None = None,
    campaign: str = "",
    currency: str = "EUR",
) -> VoucherBatch:
    """Create ``count`` vouchers with unique, unguessable codes and the same terms."""
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 100_000:
        raise _fail("count", "Between 1 and 100000 codes.")
    if not name.strip():
        raise _fail("name", "A batch needs a name.")
    terms = _voucher_build(
        kind=kind,
        value=value,
        valid_from=valid_from,
        valid_until=valid_until,
        min_order=min_order,
        max_uses=max_uses,
        per_customer_limit=per_customer_limit,
        currency=currency,
    )
    batch = VoucherBatch.objects.create(
        name=name.strip(),
        count=count,
        campaign=campaign,
        created_by=_signed_in(actor),
    )
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {random_code(12) for _ in range(count - len(codes))}
        taken = set(Voucher.objects.filter(code__in=wanted).values_list("code", flat=True))
        codes |= wanted - taken
    Voucher.objects.bulk_create(
        [Voucher(code=c, batch=batch, **terms) for c in codes], batch_size=2000
    )
    audit_record(actor=actor, action="create", obj=batch, changes={"count": [None, count]})
    return batch


@dataclass(frozen=True)
class VoucherQuote:
    voucher: Voucher
    order_total: Decimal
    discount: Decimal


def _voucher_check(
    voucher: Voucher | None,
    *,
    order_total: Decimal,
    customer_id: int | None,
    currency: str,
    at: dt.datetime,
) -> Decimal:
    """Return the discount ``voucher`` gives on ``order_total`` or raise ApplicationError."""
    if voucher is None:
        raise _fail("code", "Unknown voucher code.", "voucher_unknown")
    _currency_check(voucher.currency, currency)
    if at < voucher.valid_from:
        raise _fail("code", "This voucher is not valid yet.", "voucher_not_yet_valid")
    if voucher.valid_until is not None and at > voucher.valid_until:
        raise _fail("code", "This voucher has expired.", "voucher_expired")
    if voucher.uses >= voucher.max_uses:
        raise _fail("code", "This voucher has been used up.", "voucher_used")
    if voucher.customer_id is not None and voucher.customer_id != customer_id:
        raise _fail("code", "This voucher belongs to another customer.", "voucher_other_customer")
    if voucher.per_customer_limit is not None:
        if customer_id is None:
            raise _fail("customer", "This voucher needs the customer.", "voucher_needs_customer")
        used = VoucherRedemption.objects.filter(voucher=voucher, customer_id=customer_id).count()
        if used >= voucher.per_customer_limit:
            raise _fail(
                "code", "You have used this voucher as often as allowed.", "voucher_customer_limit"
            )
    if order_total < voucher.min_order:
        raise _fail(
            "order_total", f"The minimum order is {voucher.min_order} EUR.", "voucher_min_order"
        )
    if voucher.kind == Voucher.Kind.PERCENT:
        return (order_total * voucher.value / 100).quantize(CENT)
    return min(voucher.value, order_total)


def voucher_quote(
    *,
    code: str,
    order_total: Any,
    customer: Customer | None = None,
    currency: str = "EUR",
    at: dt.datetime | None = None,
) -> VoucherQuote:
    """Validate ``code`` for an order and return the discount (books nothing)."""
    total = amount_parse(order_total, field="order_total")
    voucher = Voucher.objects.filter(code=(code or "").strip().upper()).first()
    discount = _voucher_check(
        voucher,
        order_total=total,
        customer_id=customer.pk if customer else None,
        currency=currency,
        at=at or timezone.now(),
    )
    assert voucher is not None
    return VoucherQuote(voucher=voucher, order_total=total, discount=discount)


@dataclass(frozen=True)
class VoucherUse:
    redemption: VoucherRedemption
    replayed: bool


@transaction.atomic
def voucher_redeem(
    *,
    code: str,
    order_total: Any,
    idempotency_key: str,
    customer: Customer | None = None,
    currency: str = "EUR",
    reference: str = "",
    at: dt.datetime | None = None,
) -> VoucherUse:
    """Use a voucher once per idempotency key, under the voucher's row lock.

    The lock makes "uses < max_uses" and "uses + 1" one step: two tills can
    never both use the last use of a voucher.
    """
    key = _key_check(idempotency_key)
    total = amount_parse(order_total, field="order_total")
    normalized = (code or "").strip().upper()
    voucher = lock_objects.voucher_for_update(normalized)
    found = VoucherRedemption.objects.filter(idempotency_key=key).first()
    if found is not None:
        if voucher is None or found.voucher_id != voucher.pk:
            raise ConflictError(
                "This idempotency key was used for a different voucher.",
                code="idempotency_key_reused",
            )
        return VoucherUse(redemption=found, replayed=True)
    at = at or timezone.now()
    customer_id = customer.pk if customer else None
    discount = _voucher_check(
        voucher, order_total=total, customer_id=customer_id, currency=currency, at=at
    )
    assert voucher is not None
    redemption = VoucherRedemption.objects.create(
        voucher=voucher,
        customer_id=customer_id,
        order_total=total,
        discount=discount,
        idempotency_key=key,
        reference=reference[:100],
        created_at=at,
    )
    voucher.uses += 1
    voucher.save(update_fields=["uses"])
    return VoucherUse(redemption=redemption, replayed=False)
