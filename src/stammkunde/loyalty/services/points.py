"""Points bookings: earn, redeem, adjust, expire, returns and bonuses."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from stammkunde.commerce.models import Order, Return
from stammkunde.core.access import User
from stammkunde.core.audit import audit_record

from .. import lock_objects
from ..models import (
    LoyaltyAccount,
    PointsEntry,
    PointsLot,
)
from ._common import (
    Booking,
    Kind,
    _currency_check,
    _fail,
    _key_check,
    _signed_in,
    points_parse,
    points_value,
)
from ._ledger import _append, _earn, _expire_due, _lots_take, _replay, _spend


def _account_pk(account: LoyaltyAccount | int) -> int:
    return account if isinstance(account, int) else int(account.pk)


@transaction.atomic
def points_earn(
    *,
    account: LoyaltyAccount | int,
    points: Any,
    idempotency_key: str,
    reason: str = "",
    at: dt.datetime | None = None,
    order: Order | None = None,
    ticket_id: int | None = None,
    campaign: str = "",
    agent: User | None = None,
    currency: str | None = None,
) -> Booking:
    """Credit ``points`` as a new lot; a replay of ``idempotency_key`` books nothing.

    With a signed-in ``agent`` the account must be visible to the agent (Http404
    otherwise); ``currency``, when given, must be the program's.
    """
    amount = points_parse(points)
    key = _key_check(idempotency_key)
    locked = lock_objects.account_for_update(_account_pk(account), user=_signed_in(agent))
    if currency is not None:
        _currency_check(locked.program.currency, currency)
    return _earn(
        locked,
        points=amount,
        key=key,
        at=at or timezone.now(),
        reason=reason,
        order=order,
        ticket_id=ticket_id,
        campaign=campaign,
        agent=_signed_in(agent),
    )


@transaction.atomic
def points_redeem(
    *,
    account: LoyaltyAccount | int,
    points: Any,
    idempotency_key: str,
    reason: str = "",
    at: dt.datetime | None = None,
    order: Order | None = None,
    agent: User | None = None,
    currency: str | None = None,
) -> Booking:
    """Spend ``points`` from the oldest lots; refuses more than the balance.

    ``agent`` and ``currency`` are checked as for ``points_earn``.
    """
    amount = points_parse(points)
    key = _key_check(idempotency_key)
    locked = lock_objects.account_for_update(_account_pk(account), user=_signed_in(agent))
    if currency is not None:
        _currency_check(locked.program.currency, currency)
    if amount < locked.program.min_redeem_points:
        raise _fail(
            "points",
            f"At least {locked.program.min_redeem_points} points per redemption.",
            "points_below_minimum",
        )
    return _spend(
        locked,
        kind=Kind.REDEEM,
        points=amount,
        key=key,
        at=at or timezone.now(),
        reason=reason,
        order=order,
        agent=_signed_in(agent),
        amount=points_value(amount, locked.program),
    )


@transaction.atomic
def points_adjust(
    *,
    account: LoyaltyAccount,
    points: Any,
    reason: str,
    idempotency_key: str,
    agent: User | None = None,
    ticket_id: int | None = None,
    campaign: str = "",
    at: dt.datetime | None = None,
) -> Booking:
    """Correct the balance by ``points`` (signed), with a reason.

    A positive adjustment is a new lot; a negative one takes the oldest lots and
    may not exceed the balance.
    """
    amount = points_parse(points, allow_negative=True)
    key = _key_check(idempotency_key)
    if not reason.strip():
        raise _fail("reason", "An adjustment needs a reason.", "reason_required")
    at = at or timezone.now()
    locked = lock_objects.account_for_update(account.pk)
    actor = _signed_in(agent)
    if amount > 0:
        booking = _earn(
            locked,
            points=amount,
            key=key,
            at=at,
            kind=Kind.ADJUST,
            reason=reason,
            ticket_id=ticket_id,
            campaign=campaign,
            agent=actor,
        )
    else:
        booking = _spend(
            locked,
            kind=Kind.ADJUST,
            points=-amount,
            key=key,
            at=at,
            reason=reason,
            ticket_id=ticket_id,
            campaign=campaign,
            agent=actor,
        )
    if not booking.replayed:
        audit_record(
            actor=agent,
            action="update",
            obj=booking.entry,
            customer_id=locked.customer_id,
            changes={"points": [None, amount], "reason": [None, reason]},
        )
    return booking


def points_expire(*, today: dt.date | None = None, account: LoyaltyAccount | None = None) -> int:
    """Expire every lot whose date has passed (the nightly job); return the points expired.

    One transaction per account, so a long run never holds many locks; each lot
    expires under the key ``expire:lot:<id>``, so running the job twice is safe.
    """
    today = today or timezone.localdate()
    at = timezone.now()
    if at.date() < today:  # a run "as of" a later day (tests, catch-up) books on that day
        at = dt.datetime.combine(today, dt.time(0, 0), tzinfo=dt.UTC)
    accounts = (
        PointsLot.objects.filter(remaining__gt=0, expires_on__lt=today)
        .values_list("account_id", flat=True)
        .distinct()
    )
    if account is not None:
        accounts = accounts.filter(account_id=account.pk)
    total = 0
    for account_id in sorted(set(accounts)):
        with transaction.atomic():
            total += _expire_due(lock_objects.account_for_update(account_id), today, at)
    return total


@transaction.atomic
def points_reverse_for_return(*, ret: Return, at: dt.datetime | None = None) -> Booking | None:
    """Take back the points a returned part of an order earned (idempotent per return).

    Points = floor(points earned by the order x refund / order total), at most
    what the order earned minus what earlier returns took back. They come from
    the order's own lot first, then from the oldest lots. The balance never
    goes negative: what was already spent is not booked but recorded as the
    entry's ``shortfall`` (forgiven; see docs/loyalty.md).
    """
    order = ret.order_line.order
    earned_entry = PointsEntry.objects.filter(
        order=order, kind=Kind.EARN, idempotency_key=f"order:{order.pk}"
    ).first()
    if earned_entry is None:
        return None
    locked = lock_objects.account_for_update(earned_entry.account_id)
    key = f"return:{ret.pk}"
    if (found := _replay(locked, key, kind=Kind.REVERSE, points=None)) is not None:
        return found
    reversed_before = -(
        PointsEntry.objects.filter(account=locked, order=order, kind=Kind.REVERSE).aggregate(
            s=Sum("points")
        )["s"]
        or 0
    )
    shortfall_before = (
        PointsEntry.objects.filter(account=locked, order=order, kind=Kind.REVERSE).aggregate(
            s=Sum("shortfall")
        )["s"]
        or 0
    )
    share = (Decimal(earned_entry.points) * ret.refund / order.total) if order.total else 0
    due = min(
        int(Decimal(share).to_integral_value(ROUND_FLOOR)),
        earned_entry.points - reversed_before - shortfall_before,
    )
    if due <= 0:
        return None
    # The return's own time, so that the hook and a later explicit call agree.
    at = at or ret.returned_at
    _expire_due(locked, timezone.localtime(at).date(), at)
    own_lot = PointsLot.objects.filter(entry=earned_entry).first()
    taken = _lots_take(locked, min(due, locked.balance), first=own_lot)
    entry = _append(
        locked,
        kind=Kind.REVERSE,
        points=-taken,
        at=at,
        key=key,
        order=order,
        shortfall=due - taken,
        reason=f"return {ret.pk} of order {order.number}",
    )
    return Booking(entry=entry, balance=locked.balance, replayed=False)


@transaction.atomic
def points_bonus_award(
    *, account: LoyaltyAccount, action: str, reference: str, at: dt.datetime | None = None
) -> Booking | None:
    """Award the program's bonus for ``action`` (birthday, survey) once per ``reference``.

    The reference is the natural key: the year for a birthday, the survey
    response id for a survey. Returns None when the program gives no bonus.
    """
    bonuses = {"birthday": "birthday_bonus", "survey": "survey_bonus"}
    if action not in bonuses:
        raise _fail("action", "Unknown bonus action.", "bonus_action")
    points = getattr(account.program, bonuses[action])
    if not points:
        return None
    locked = lock_objects.account_for_update(account.pk)
    return _earn(
        locked,
        points=points,
        key=f"{action}:{reference}",
        at=at or timezone.now(),
        reason=f"{action} bonus",
    )


def birthday_bonuses_award(*, today: dt.date | None = None) -> int:
    """Award the birthday bonus to members whose birthday is ``today`` (the daily job).

    Once per member and year (key ``birthday:<year>``), so a second run books
    nothing. Members born on 29 February celebrate on 28 February in other years.
    """
    today = today or timezone.localdate()
    days = [(today.month, today.day)]
    if (today.month, today.day) == (2, 28) and not _is_leap(today.year):
        days.append((2, 29))
    birthday = Q()
    for month, day in days:
        birthday |= Q(customer__birthday__month=month, customer__birthday__day=day)
    accounts = LoyaltyAccount.objects.filter(
        birthday, program__active=True, program__birthday_bonus__gt=0
    ).select_related("program")
    at = timezone.now()
    awarded = 0
    for account in accounts.order_by("pk"):
        booking = points_bonus_award(
            account=account, action="birthday", reference=str(today.year), at=at
        )
        awarded += booking is not None and not booking.replayed
    return awarded


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
