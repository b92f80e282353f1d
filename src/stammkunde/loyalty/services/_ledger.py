"""The points ledger core: every booking goes through here (callers hold the account lock).

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
from typing import Any

from django.utils import timezone

from stammkunde.core.db import row_insert, row_update, row_value, rows_fetch
from stammkunde.core.errors import ApplicationError, ConflictError
from stammkunde.core.hooks import hook_run

from ..models import (
    LoyaltyAccount,
    LoyaltyProgram,
    PointsEntry,
    PointsLot,
)
from ._common import Booking, Kind
from .tiers import _tier_apply


def expiry_date(program: LoyaltyProgram, earned_at: dt.datetime) -> dt.date | None:
    """Return the last day points earned at ``earned_at`` are valid (end of year N after)."""
    if not program.expiry_years:
        return None
    year = timezone.localtime(earned_at).year + program.expiry_years
    return dt.date(year, 12, 31)


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
