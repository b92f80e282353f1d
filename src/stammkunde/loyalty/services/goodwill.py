"""Goodwill: points and vouchers granted within the actor's limit, and ticket pay-outs."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.utils import timezone

from stammkunde.core.access import User
from stammkunde.core.roles import goodwill_limit_of
from stammkunde.customers.models import Customer

from ..models import (
    LoyaltyAccount,
    Voucher,
)
from ._common import Booking, _fail, _key_check, amount_parse, points_parse, points_value
from .accounts import account_enroll, program_default
from .points import points_adjust
from .vouchers import voucher_issue


def goodwill_limit_for(user: User) -> Decimal | None:
    """Return the euros ``user`` may grant per goodwill action; None means no limit.

    One rule for the service desk and loyalty: ``core.roles.goodwill_limit_of``.
    """
    return goodwill_limit_of(user)


def _goodwill_check(actor: User, euros: Decimal, *, field: str) -> None:
    limit = goodwill_limit_for(actor)
    if limit is not None and euros > limit:
        raise _fail(field, f"Above your goodwill limit of {limit} EUR.", "goodwill_limit")


def goodwill_grant_pay_out(*, grant: Any) -> Booking | Voucher | None:
    """Pay out a ticket's goodwill of kind points or voucher (the ``goodwill_granted`` hook).

    The service desk has already applied the goodwill limit (or a team lead
    approved), so no limit is checked here. Points = the grant's euro value at
    the program's point value, on the customer's card (a card is issued if the
    customer has none); a voucher is a single-use amount voucher for the
    customer. Idempotent per grant. Without an active program or a customer,
    nothing happens.
    """
    if grant.customer_id is None or grant.kind not in ("points", "voucher"):
        return None
    program = program_default()
    if program is None:
        return None
    actor = grant.decided_by or grant.requested_by
    customer = Customer.objects.get(pk=grant.customer_id)
    reason = f"goodwill: {grant.reason}"[:300]
    if grant.kind == "voucher":
        return voucher_issue(
            actor=actor,
            kind=Voucher.Kind.AMOUNT,
            value=grant.amount,
            customer=customer,
            ticket_id=grant.ticket_id,
            reason=reason,
            valid_until=timezone.now() + dt.timedelta(days=365),
            issue_key=f"goodwill:{grant.pk}",
        )
    points = int((Decimal(grant.amount) / program.point_value).to_integral_value(ROUND_FLOOR))
    if points <= 0:
        return None
    account = account_enroll(customer=customer, program=program, actor=actor)
    return points_adjust(
        account=account,
        points=points,
        reason=reason,
        idempotency_key=f"goodwill:{grant.pk}",
        agent=actor,
        ticket_id=grant.ticket_id,
    )


def points_goodwill_grant(
    *,
    actor: User,
    account: LoyaltyAccount,
    points: Any,
    reason: str,
    idempotency_key: str,
    ticket_id: int | None = None,
) -> Booking:
    """Grant goodwill points within the actor's limit (points valued at the program rate)."""
    amount = points_parse(points)
    _goodwill_check(actor, points_value(amount, account.program), field="points")
    return points_adjust(
        account=account,
        points=amount,
        reason=reason or "goodwill",
        idempotency_key=idempotency_key,
        agent=actor,
        ticket_id=ticket_id,
    )


def voucher_goodwill_issue(
    *,
    actor: User,
    customer: Customer,
    value: Any,
    reason: str,
    ticket_id: int | None = None,
    valid_days: int = 365,
    idempotency_key: str = "",
) -> Voucher:
    """Issue a single-use amount voucher to ``customer`` within the actor's goodwill limit.

    With ``idempotency_key`` (the goodwill form's key) a form sent twice issues
    one voucher: the second answer is the first voucher.
    """
    amount = amount_parse(value, field="value", allow_zero=False)
    _goodwill_check(actor, amount, field="value")
    issue_key = None
    if idempotency_key:
        issue_key = f"goodwill-form:{customer.pk}:{_key_check(idempotency_key)}"
        if len(issue_key) > 120:
            issue_key = "goodwill-form:" + hashlib.sha256(issue_key.encode()).hexdigest()
    return voucher_issue(
        actor=actor,
        kind=Voucher.Kind.AMOUNT,
        value=amount,
        customer=customer,
        ticket_id=ticket_id,
        reason=reason or "goodwill",
        valid_until=timezone.now() + dt.timedelta(days=valid_days),
        issue_key=issue_key,
    )
