"""Validation and value helpers shared by the loyalty services (private to the package)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from stammkunde.core.access import User
from stammkunde.core.errors import ApplicationError

from ..models import (
    LoyaltyProgram,
    PointsEntry,
)

CENT = Decimal("0.01")
MAX_POINTS_PER_BOOKING = 10_000_000
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
