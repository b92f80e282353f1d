"""Every loyalty rule: earning, redeeming, expiry, returns, vouchers, tiers, referrals.

Ledger writes follow one pattern: open a transaction, lock the account row
(``lock_objects``), look for an entry with the same idempotency key (a replay
returns it), validate, append the entry, move lot remainders and the cached
balance. Because every writer of an account holds its row lock, the check for
a replayed key and the insert cannot race; the UniqueConstraint on
(account, idempotency_key) is the backstop.

Invariants (checked by tests/loyalty/test_ledger_state_machine.py):
``account.balance == sum(entries.points) == sum(lots.remaining)``, no lot below
zero, redemption and expiry take the oldest lots first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from stammkunde.commerce.models import Order, Return
from stammkunde.core.access import User
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ApplicationError, ConflictError
from stammkunde.core.fastrows import row_insert, row_update, row_value, rows_fetch
from stammkunde.core.hooks import hook_run
from stammkunde.core.roles import goodwill_limit_of
from stammkunde.core.sequences import counter_next
from stammkunde.customers.models import Customer

from . import lock_objects
from .cards import card_number_for, random_code
from .models import (
    LoyaltyAccount,
    LoyaltyProgram,
    PointsEntry,
    PointsLot,
    Referral,
    StampCard,
    Tier,
    Voucher,
    VoucherBatch,
    VoucherRedemption,
)

CENT = Decimal("0.01")
MAX_POINTS_PER_BOOKING = 10_000_000
QUOTE_MAX_AGE_SECONDS = 15 * 60
Kind = PointsEntry.Kind


@dataclass(frozen=True)
class Booking:
    """The answer of a ledger write; a replay gives the first answer again."""

    entry: PointsEntry
    balance: int
    replayed: bool


# --- validation helpers ---------------------------------------------------------------


def _signed_in(user: User | None) -> Any:
    """Return ``user`` when signed in, else None (for the ``agent``/``issued_by`` columns)."""
    return user if user is not None and user.is_authenticated else None


def _fail(field: str, message: str, code: str = "invalid") -> ApplicationError:
    return ApplicationError(message, code=code, field_errors={field: [message]})


def points_parse(value: Any, *, field: str = "points", allow_negative: bool = False) -> int:
    """Return ``value`` as a whole number of points or raise ApplicationError.

    Refuses booleans, fractions (``1.5``), zero, negatives (unless allowed) and
    amounts beyond one booking's ceiling.
    """
    if isinstance(value, bool) or value is None:
        raise _fail(field, "Points must be a whole number.", "points_not_integer")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise _fail(field, "Points must be a whole number.", "points_not_integer") from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise _fail(field, "Points must be a whole number.", "points_not_integer")
    points = int(number)
    if points == 0 or (points < 0 and not allow_negative):
        raise _fail(field, "Points must be greater than zero.", "points_not_positive")
    if abs(points) > MAX_POINTS_PER_BOOKING:
        raise _fail(
            field, f"At most {MAX_POINTS_PER_BOOKING} points per booking.", "points_too_many"
        )
    return points


def amount_parse(value: Any, *, field: str, allow_zero: bool = True) -> Decimal:
    """Return a non-negative euro amount with two decimals or raise ApplicationError."""
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise _fail(field, "Not an amount.") from exc
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise _fail(field, "Must be a positive amount.")
    return amount


def _currency_check(program_currency: str, currency: str) -> None:
    if currency != program_currency:
        raise _fail("currency", f"Only {program_currency} is accepted.", "wrong_currency")


def _key_check(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > 120:
        raise _fail(
            "idempotency_key",
            "An idempotency key of 1 to 120 characters is required.",
            "idempotency_key",
        )
    return key


def points_value(points: int, program: LoyaltyProgram) -> Decimal:
    """Return what ``points`` are worth in euros in ``program``."""
    return (Decimal(points) * program.point_value).quantize(CENT)


def expiry_date(program: LoyaltyProgram, earned_at: dt.datetime) -> dt.date | None:
    """Return the last day points earned at ``earned_at`` are valid (end of year N after)."""
    if not program.expiry_years:
        return None
    year = timezone.localtime(earned_at).year + program.expiry_years
    return dt.date(year, 12, 31)


# --- ledger core (callers hold the account lock) ---------------------------------------


def _replay(account: LoyaltyAccount, key: str, *, kind: str, points: int | None) -> Booking | None:
    """Return the first booking for ``key``; a different request under it is a conflict."""
    # Runs on every booking; the lean statement keeps the till API fast (docs/loyalty.md).
    # It must be its own statement after the lock: under READ COMMITTED a statement sees
    # the rows committed before it starts, so folded into the locking SELECT it would miss
    # the entry of a twin request that held the lock while this one waited.
    found_id = row_value(
        PointsEntry, "id", "r.account_id = %s AND r.idempotency_key = %s", [account.pk, key]
    )
    if found_id is None:
        return None
    found = PointsEntry.objects.get(pk=found_id)
    if found.kind != kind or (points is not None and found.points != points):
        raise ConflictError(
            "This idempotency key was used for a different booking.", code="idempotency_key_reused"
        )
    return Booking(entry=found, balance=found.balance_after, replayed=True)


def _append(
    account: LoyaltyAccount, *, kind: str, points: int, at: dt.datetime, key: str, **cause: Any
) -> PointsEntry:
    entry = row_insert(
        PointsEntry(
            account=account,
            kind=kind,
            points=points,
            created_at=at,
            idempotency_key=key,
            balance_after=account.balance + points,
            **cause,
        )
    )
    if points:
        account.balance += points
        row_update(account, ["balance"])
        hook_run("points_changed", entry=entry)
    return entry


def _lot_open(account: LoyaltyAccount, entry: PointsEntry) -> PointsLot:
    return row_insert(
        PointsLot(
            account=account,
            entry=entry,
            earned_at=entry.created_at,
            points=entry.points,
            remaining=entry.points,
            expires_on=expiry_date(account.program, entry.created_at),
        )
    )


def _lots_take(account: LoyaltyAccount, points: int, *, first: PointsLot | None = None) -> int:
    """Take up to ``points`` from the lots, ``first`` then oldest first; return what was taken."""
    taken = 0
    changed: list[PointsLot] = []
    if first is not None and first.remaining:
        part = min(first.remaining, points)
        first.remaining -= part
        taken += part
        changed.append(first)
    where, params = "r.account_id = %s AND r.remaining > 0", [account.pk]
    if first is not None:
        where, params = where + " AND r.id <> %s", [account.pk, first.pk]
    offset, size = 0, 8
    # Nothing is saved until the end, so offsets stay stable. Most takes need one or two
    # lots, so the first batch is small and later ones grow.
    while taken < points and (
        batch := rows_fetch(
            PointsLot, where, params, order_by="r.earned_at, r.id", limit=size, offset=offset
        )
    ):
        offset += len(batch)
        size = min(size * 4, 500)
        for lot in batch:
            part = min(lot.remaining, points - taken)
            lot.remaining -= part
            taken += part
            changed.append(lot)
            if taken == points:
                break
    if len(changed) <= 3:
        for lot in changed:
            row_update(lot, ["remaining"])
    else:
        PointsLot.objects.bulk_update(changed, ["remaining"])
    return taken


def _expire_due(account: LoyaltyAccount, today: dt.date, at: dt.datetime) -> int:
    """Book one expiry entry per lot whose date has passed; return the points expired."""
    total = 0
    # Nearly always nothing is due: ask with one lean statement before loading lots.
    due = "r.account_id = %s AND r.remaining > 0 AND r.expires_on < %s"
    if row_value(PointsLot, "id", due, [account.pk, today]) is None:
        return 0
    for lot in PointsLot.objects.filter(
        account=account, remaining__gt=0, expires_on__lt=today
    ).order_by("expires_on", "earned_at", "id"):
        points = lot.remaining
        lot.remaining = 0
        lot.save(update_fields=["remaining"])
        _append(
            account,
            kind=Kind.EXPIRE,
            points=-points,
            at=at,
            key=f"expire:lot:{lot.pk}",
            reason=f"expired on {lot.expires_on:%Y-%m-%d}",
        )
        total += points
    return total


def _earn(
    account: LoyaltyAccount,
    *,
    points: int,
    key: str,
    at: dt.datetime,
    kind: str = Kind.EARN,
    **cause: Any,
) -> Booking:
    if (found := _replay(account, key, kind=kind, points=points)) is not None:
        return found
    entry = _append(account, kind=kind, points=points, at=at, key=key, **cause)
    _lot_open(account, entry)
    if account.program.tier_basis == LoyaltyProgram.TierBasis.POINTS:
        # Upgrade at once; on the spend basis only an order moves the tier (accrual does it).
        _tier_apply(account, today=timezone.localtime(at).date(), review=False)
    return Booking(entry=entry, balance=account.balance, replayed=False)


def _spend(
    account: LoyaltyAccount, *, kind: str, points: int, key: str, at: dt.datetime, **cause: Any
) -> Booking:
    """Book a negative entry of ``points`` (> 0) taken from the oldest lots."""
    if (found := _replay(account, key, kind=kind, points=-points)) is not None:
        return found
    _expire_due(account, timezone.localtime(at).date(), at)
    if points > account.balance:
        raise ApplicationError(
            f"Only {account.balance} points are available.",
            code="insufficient_points",
            field_errors={"points": [f"Only {account.balance} points are available."]},
        )
    _lots_take(account, points)
    entry = _append(account, kind=kind, points=-points, at=at, key=key, **cause)
    return Booking(entry=entry, balance=account.balance, replayed=False)


# --- accounts ------------------------------------------------------------------------------


def program_default() -> LoyaltyProgram | None:
    """Return the active program (the first by name when several are active)."""
    return LoyaltyProgram.objects.filter(active=True).order_by("name").first()


@transaction.atomic
def account_enroll(
    *,
    customer: Customer,
    program: LoyaltyProgram | None = None,
    actor: User | None = None,
    at: dt.datetime | None = None,
    referral_code: str = "",
) -> LoyaltyAccount:
    """Give ``customer`` a card in ``program`` (the active one by default); idempotent.

    With ``referral_code`` the new member is linked to the referrer; both are
    rewarded after the new member's first paid order.
    """
    program = program or program_default()
    if program is None:
        raise _fail("program", "There is no active loyalty program.", "no_program")
    existing = LoyaltyAccount.objects.filter(customer=customer, program=program).first()
    if existing is not None:
        return existing
    referrer = None
    if referral_code:
        referrer = LoyaltyAccount.objects.filter(
            referral_code=referral_code.strip().upper(), program=program
        ).first()
        if referrer is None or referrer.customer_id == customer.pk:
            raise _fail("referral_code", "Unknown referral code.", "referral_code")
    at = at or timezone.now()
    account = LoyaltyAccount.objects.create(
        customer=customer,
        program=program,
        card_number=card_number_for(counter_next("loyalty_card")),
        referral_code=random_code(8),
        enrolled_at=at,
    )
    _tier_apply(account, today=timezone.localtime(at).date(), review=False)
    if referrer is not None:
        Referral.objects.create(referrer=referrer, referee=account, created_at=at)
    audit_record(
        actor=actor,
        action="create",
        obj=account,
        customer_id=customer.pk,
        changes={"card_number": [None, account.card_number]},
    )
    return account


# --- points ----------------------------------------------------------------------------------


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


# --- accrual on orders -----------------------------------------------------------------------


def _order_points(account: LoyaltyAccount, order: Order) -> int:
    program = account.program
    multipliers = {m.category_id: m.multiplier for m in program.category_multipliers.all()}
    base = Decimal(0)
    for line in order.lines.select_related("product"):
        base += line.line_total * multipliers.get(line.product.category_id, Decimal(1))
    tier_factor = account.tier.points_multiplier if account.tier is not None else Decimal(1)
    return int((base * program.points_per_euro * tier_factor).to_integral_value(ROUND_FLOOR))


def points_accrue_for_order(order: Order) -> Booking | None:
    """Credit the points an order earns; skip customers without an account (None).

    Runs through the ``order_created`` hook at the end of
    ``commerce.services.order_create``, inside its transaction. Books, each
    idempotent: the order's points (key ``order:<id>``), the first-purchase
    bonus, the referral rewards after the referee's first paid order, and
    stamps for service lines.
    """
    if order.status != Order.Status.PAID or order.currency != "EUR":
        return None
    account = (
        LoyaltyAccount.objects.filter(customer_id=order.customer_id, program__active=True)
        .select_related("program")
        .order_by("pk")
        .first()
    )
    if account is None:
        return None
    with transaction.atomic():
        referral = Referral.objects.filter(referee=account, rewarded_at__isnull=True).first()
        pks = [account.pk] + ([referral.referrer_id] if referral else [])
        locked_all = {a.pk: a for a in lock_objects.accounts_for_update(pks)}
        locked = locked_all[account.pk]
        at = order.ordered_at
        booking = None
        if (points := _order_points(locked, order)) > 0:
            booking = _earn(
                locked,
                points=points,
                key=f"order:{order.pk}",
                at=at,
                order=order,
                reason=f"order {order.number}",
            )
        program = locked.program
        earlier = (
            Order.objects.filter(
                customer_id=order.customer_id,
                status=Order.Status.PAID,
                ordered_at__lt=order.ordered_at,
            )
            .exclude(pk=order.pk)
            .exists()
        )
        if program.first_purchase_bonus and not earlier:
            _earn(
                locked,
                points=program.first_purchase_bonus,
                key="first-purchase",
                at=at,
                order=order,
                reason="first purchase bonus",
            )
        if referral is not None:
            _referral_reward(referral, locked_all, order)
        services = sum(line.quantity for line in order.lines.all() if line.product.is_service)
        if services:
            _stamps_add(locked, count=services, at=at, order=order)
        _tier_apply(locked, today=timezone.localtime(at).date(), review=False)
    return booking


def _referral_reward(referral: Referral, locked: dict[int, LoyaltyAccount], order: Order) -> None:
    program = locked[referral.referee_id].program
    for account_id, points, role in (
        (referral.referrer_id, program.referral_bonus_referrer, "referrer"),
        (referral.referee_id, program.referral_bonus_referee, "referee"),
    ):
        if points:
            _earn(
                locked[account_id],
                points=points,
                key=f"referral:{referral.pk}:{role}",
                at=order.ordered_at,
                order=order,
                reason=f"referral bonus ({role})",
            )
    referral.rewarded_at = order.ordered_at
    referral.order = order
    referral.save(update_fields=["rewarded_at", "order"])


def _stamps_add(account: LoyaltyAccount, *, count: int, at: dt.datetime, order: Order) -> None:
    """Stamp every stamp card of the program; a full card pays a reward that grows."""
    for definition in account.program.stamp_cards.all():
        card, _ = StampCard.objects.get_or_create(account=account, definition=definition)
        card.stamps += count
        while card.stamps >= definition.stamps_required:
            card.stamps -= definition.stamps_required
            reward = min(
                definition.reward_cap_points,
                definition.reward_points + definition.reward_growth_points * card.completed,
            )
            card.completed += 1
            if reward:
                _earn(
                    account,
                    points=reward,
                    key=f"stamp:{card.pk}:{card.completed}",
                    at=at,
                    order=order,
                    reason=f"{definition.name}: card {card.completed} full",
                )
        card.save(update_fields=["stamps", "completed"])


# --- tiers ----------------------------------------------------------------------------------


def tier_qualifying_value(account: LoyaltyAccount, today: dt.date) -> Decimal:
    """Return the points earned or euros spent in the 12 months up to ``today``."""
    since = dt.datetime.combine(today - dt.timedelta(days=365), dt.time(0, 0), tzinfo=dt.UTC)
    if account.program.tier_basis == LoyaltyProgram.TierBasis.POINTS:
        value = PointsEntry.objects.filter(
            account=account, kind=Kind.EARN, created_at__gte=since
        ).aggregate(s=Sum("points"))["s"]
    else:
        value = Order.objects.filter(
            customer_id=account.customer_id, status=Order.Status.PAID, ordered_at__gte=since
        ).aggregate(s=Sum("total"))["s"]
    return Decimal(value or 0)


def _tier_apply(account: LoyaltyAccount, *, today: dt.date, review: bool) -> None:
    """Upgrade at once; downgrade only at or after the review date (when ``review``)."""
    tiers = list(Tier.objects.filter(program_id=account.program_id).order_by("-rank"))
    if not tiers:
        return
    value = tier_qualifying_value(account, today)
    target = next((t for t in tiers if t.threshold <= value), tiers[-1])
    current = next((t for t in tiers if t.pk == account.tier_id), None)
    upgrade = current is None or target.rank > current.rank
    downgrade = (
        current is not None
        and target.rank < current.rank
        and review
        and (account.tier_review_at is None or today >= account.tier_review_at)
    )
    if not (upgrade or downgrade):
        return
    account.tier = target
    account.tier_review_at = today + dt.timedelta(days=365)
    account.save(update_fields=["tier", "tier_review_at"])


@transaction.atomic
def tier_recalculate(*, account: LoyaltyAccount, today: dt.date | None = None) -> Tier | None:
    """Recalculate one account's tier as the review job does and return it."""
    locked = lock_objects.account_for_update(account.pk)
    _tier_apply(locked, today=today or timezone.localdate(), review=True)
    return locked.tier


def tiers_review(*, today: dt.date | None = None) -> int:
    """Review the tier of every account whose review date has come (the nightly job)."""
    today = today or timezone.localdate()
    ids = list(
        LoyaltyAccount.objects.filter(tier_review_at__lte=today)
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    for pk in ids:
        tier_recalculate(account=LoyaltyAccount(pk=pk), today=today)
    return len(ids)


# --- vouchers --------------------------------------------------------------------------------


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
    voucher = Voucher.objects.create(
        code=random_code(12),
        issue_key=issue_key or None,
        customer=customer,
        ticket_id=ticket_id,
        reason=reason,
        issued_by=_signed_in(actor),
        **terms,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=voucher,
        customer_id=customer.pk if customer else None,
        changes={"kind": [None, kind], "value": [None, str(terms["value"])]},
    )
    return voucher


def voucher_goodwill_issue(
    *,
    actor: User,
    customer: Customer,
    value: Any,
    reason: str,
    ticket_id: int | None = None,
    valid_days: int = 365,
) -> Voucher:
    """Issue a single-use amount voucher to ``customer`` within the actor's goodwill limit."""
    amount = amount_parse(value, field="value", allow_zero=False)
    _goodwill_check(actor, amount, field="value")
    return voucher_issue(
        actor=actor,
        kind=Voucher.Kind.AMOUNT,
        value=amount,
        customer=customer,
        ticket_id=ticket_id,
        reason=reason or "goodwill",
        valid_until=timezone.now() + dt.timedelta(days=valid_days),
    )


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


# --- two-phase checkout ---------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutQuote:
    """What a checkout may redeem; ``token`` is signed and carries the terms to commit."""

    token: str
    account_id: int
    order_total: Decimal
    points: int
    points_amount: Decimal
    voucher_code: str
    voucher_discount: Decimal
    payable: Decimal
    balance: int


@dataclass(frozen=True)
class CheckoutResult:
    account_id: int
    points: int
    points_amount: Decimal
    voucher_discount: Decimal
    balance: int
    replayed: bool


_QUOTE_SALT = "stammkunde.loyalty.checkout"


def checkout_quote(
    *,
    account: LoyaltyAccount,
    order_total: Any,
    points: Any = None,
    voucher_code: str = "",
    currency: str = "EUR",
    at: dt.datetime | None = None,
) -> CheckoutQuote:
    """Price a checkout: the voucher first, then points up to the rest (books nothing).

    ``points`` None redeems as many as the balance and the order allow. The
    returned token is valid for 15 minutes and is what ``checkout_commit`` books.
    """
    account = LoyaltyAccount.objects.select_related("program", "customer").get(pk=account.pk)
    program = account.program
    _currency_check(program.currency, currency)
    total = amount_parse(order_total, field="order_total", allow_zero=False)
    discount = Decimal("0.00")
    code = (voucher_code or "").strip().upper()
    if code:
        discount = voucher_quote(
            code=code, order_total=total, customer=account.customer, currency=currency, at=at
        ).discount
    rest = total - discount
    affordable = int((rest / program.point_value).to_integral_value(ROUND_FLOOR))
    balance = account.balance
    if points is None:
        wanted = min(balance, affordable)
        if wanted < program.min_redeem_points:
            wanted = 0
    else:
        wanted = points_parse(points)
        if wanted > balance:
            raise _fail("points", f"Only {balance} points are available.", "insufficient_points")
        if wanted > affordable:
            raise _fail(
                "points", f"At most {affordable} points fit this order.", "points_above_order"
            )
        if wanted < program.min_redeem_points:
            raise _fail(
                "points", f"At least {program.min_redeem_points} points.", "points_below_minimum"
            )
    value = points_value(wanted, program)
    token = signing.dumps(
        {"a": account.pk, "t": str(total), "p": wanted, "v": code, "c": currency},
        salt=_QUOTE_SALT,
        compress=True,
    )
    return CheckoutQuote(
        token=token,
        account_id=account.pk,
        order_total=total,
        points=wanted,
        points_amount=value,
        voucher_code=code,
        voucher_discount=discount,
        payable=rest - value,
        balance=balance,
    )


@transaction.atomic
def checkout_commit(
    *, token: str, idempotency_key: str, reference: str = "", account: LoyaltyAccount | None = None
) -> CheckoutResult:
    """Book a quote: redeem its points and use its voucher, all or nothing, once per key.

    With ``account`` the token must belong to that account (the API passes the
    account from the URL so a token cannot be replayed against another card).
    """
    key = _key_check(idempotency_key)
    try:
        terms = signing.loads(token, salt=_QUOTE_SALT, max_age=QUOTE_MAX_AGE_SECONDS)
    except signing.SignatureExpired as exc:
        raise _fail("quote", "The quote has expired; ask for a new one.", "quote_expired") from exc
    except signing.BadSignature as exc:
        raise _fail("quote", "Not a valid quote.", "quote_invalid") from exc
    if account is not None and terms["a"] != account.pk:
        raise _fail("quote", "The quote is for another account.", "quote_invalid")
    locked = lock_objects.account_for_update(terms["a"])
    points, code = int(terms["p"]), terms["v"]
    voucher_key = f"checkout:{locked.pk}:{key}"
    replay = PointsEntry.objects.filter(account=locked, idempotency_key=key).first()
    used = VoucherRedemption.objects.filter(idempotency_key=voucher_key).first()
    if replay is not None or used is not None:
        if (replay is not None and replay.points != -points) or (bool(code) != (used is not None)):
            raise ConflictError(
                "This idempotency key was used for a different checkout.",
                code="idempotency_key_reused",
            )
        return CheckoutResult(
            account_id=locked.pk,
            points=points,
            points_amount=points_value(points, locked.program),
            voucher_discount=used.discount if used else Decimal("0.00"),
            balance=replay.balance_after if replay is not None else locked.balance,
            replayed=True,
        )
    discount = Decimal("0.00")
    if code:
        discount = voucher_redeem(
            code=code,
            order_total=terms["t"],
            idempotency_key=voucher_key,
            customer=locked.customer,
            currency=terms["c"],
            reference=reference,
        ).redemption.discount
    if points:
        _spend(
            locked,
            kind=Kind.REDEEM,
            points=points,
            key=key,
            at=timezone.now(),
            reason=f"checkout {reference}".strip(),
            amount=points_value(points, locked.program),
        )
    return CheckoutResult(
        account_id=locked.pk,
        points=points,
        points_amount=points_value(points, locked.program),
        voucher_discount=discount,
        balance=locked.balance,
        replayed=False,
    )


# --- self-service links -------------------------------------------------------------------


_SELF_SERVICE_SALT = "stammkunde.loyalty.self-service"
SELF_SERVICE_MAX_AGE = 60 * 60 * 24 * 90


def self_service_token(account: LoyaltyAccount) -> str:
    """Return the signed token of the customer's self-service link (valid 90 days)."""
    return signing.TimestampSigner(salt=_SELF_SERVICE_SALT).sign(str(account.pk))


def self_service_account_id(token: str) -> int | None:
    """Return the account id a token was signed for, or None when invalid or too old."""
    try:
        value = signing.TimestampSigner(salt=_SELF_SERVICE_SALT).unsign(
            token, max_age=SELF_SERVICE_MAX_AGE
        )
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


# --- program configuration -----------------------------------------------------------------


@transaction.atomic
def program_configure(*, actor: User, program_form: Any, formsets: list[Any]) -> LoyaltyProgram:
    """Save a program and its tiers, category multipliers and stamp cards in one step.

    The forms are validated by the caller; this saves them together (all or
    nothing) and leaves an audit entry.
    """
    program = program_form.save()
    for formset in formsets:
        formset.instance = program
        formset.save()
    audit_record(
        actor=actor,
        action="update",
        obj=program,
        changes={k: [None, str(v)] for k, v in program_form.cleaned_data.items()},
    )
    return program
