"""A state machine over earn/redeem/expire/adjust/reverse that checks the ledger after each step.

A plain Python model of the lots runs beside the database; after every step
the cached balance, the sum of entries and the sum of lot remainders must
agree, no lot may fall below zero, and every lot's remainder must equal the
model's, which consumes oldest lots first (a return takes its own order's lot
first) and expires lots after 31 December of the third year. Replays of any
earlier request must return the first entry and change nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from stammkunde.commerce.models import Order
from stammkunde.commerce.services import LineInput, order_create, return_create
from stammkunde.core.errors import ApplicationError
from stammkunde.loyalty import services
from stammkunde.loyalty.models import LoyaltyAccount, LoyaltyProgram, PointsEntry, PointsLot
from tests.commerce.factories import product
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db
START = dt.datetime(2024, 1, 15, 9, tzinfo=dt.UTC)
NUMBERS = itertools.count(1)


@dataclass
class ModelLot:
    pk: int
    earned_at: dt.datetime
    points: int
    remaining: int

    @property
    def expires_on(self) -> dt.date:
        return dt.date(timezone.localtime(self.earned_at).year + 3, 12, 31)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        program = LoyaltyProgram.objects.get(name="Machine")
        self.account = services.account_enroll(customer=CustomerFactory(), program=program)
        self.now = START
        self.lots: list[ModelLot] = []
        self.replays: list[tuple[Any, dict[str, Any], int]] = []
        self.orders: list[tuple[Order, int, int]] = []  # order, earn entry pk, quantity left
        self.keys = itertools.count(1)

    # --- model helpers -----------------------------------------------------------------------

    def balance(self) -> int:
        return sum(lot.remaining for lot in self.lots)

    def balance_after_expiry(self) -> int:
        today = timezone.localtime(self.now).date()
        return sum(lot.remaining for lot in self.lots if lot.expires_on >= today)

    def model_expire(self, today: dt.date) -> None:
        for lot in self.lots:
            if lot.expires_on < today:
                lot.remaining = 0

    def model_take(self, points: int, first: ModelLot | None = None) -> int:
        order = sorted(self.lots, key=lambda lot: (lot.earned_at, lot.pk))
        if first is not None:
            order = [first] + [lot for lot in order if lot is not first]
        taken = 0
        for lot in order:
            part = min(lot.remaining, points - taken)
            lot.remaining -= part
            taken += part
        return taken

    def book_lot(self, entry: PointsEntry) -> None:
        self.lots.append(ModelLot(entry.lot.pk, entry.created_at, entry.points, entry.points))

    # --- rules -------------------------------------------------------------------------------

    @rule(days=st.integers(0, 400))
    def wait(self, days: int) -> None:
        self.now += dt.timedelta(days=days)

    @rule(points=st.integers(1, 500))
    def earn(self, points: int) -> None:
        kwargs = {
            "account": self.account,
            "points": points,
            "idempotency_key": f"earn-{next(self.keys)}",
            "at": self.now,
        }
        booking = services.points_earn(**kwargs)
        self.book_lot(booking.entry)
        self.replays.append((services.points_earn, kwargs, booking.entry.pk))

    @rule(points=st.integers(1, 700))
    def redeem(self, points: int) -> None:
        kwargs = {
            "account": self.account,
            "points": points,
            "idempotency_key": f"redeem-{next(self.keys)}",
            "at": self.now,
        }
        if points > self.balance_after_expiry():
            # Refused: nothing is booked, not even the expiry the attempt would have done.
            before = PointsEntry.objects.filter(account=self.account).count()
            with pytest.raises(ApplicationError):
                services.points_redeem(**kwargs)
            assert PointsEntry.objects.filter(account=self.account).count() == before
            return
        self.model_expire(timezone.localtime(self.now).date())
        booking = services.points_redeem(**kwargs)
        self.model_take(points)
        self.replays.append((services.points_redeem, kwargs, booking.entry.pk))

    @rule(points=st.integers(-300, 300).filter(bool))
    def adjust(self, points: int) -> None:
        kwargs = {
            "account": self.account,
            "points": points,
            "reason": "test",
            "idempotency_key": f"adjust-{next(self.keys)}",
            "at": self.now,
        }
        if points < 0:
            if -points > self.balance_after_expiry():
                before = PointsEntry.objects.filter(account=self.account).count()
                with pytest.raises(ApplicationError):
                    services.points_adjust(**kwargs)
                assert PointsEntry.objects.filter(account=self.account).count() == before
                return
            self.model_expire(timezone.localtime(self.now).date())
        booking = services.points_adjust(**kwargs)
        if points > 0:
            self.book_lot(booking.entry)
        else:
            self.model_take(-points)
        self.replays.append((services.points_adjust, kwargs, booking.entry.pk))

    @rule()
    def expire(self) -> None:
        today = timezone.localtime(self.now).date()
        expected = sum(lot.remaining for lot in self.lots if lot.expires_on < today)
        assert services.points_expire(today=today, account=self.account) == expected
        self.model_expire(today)

    @rule(quantity=st.integers(1, 5))
    def place_order(self, quantity: int) -> None:
        placed, _ = order_create(
            actor=None,
            customer=self.account.customer,
            number=f"SM{next(NUMBERS)}",
            ordered_at=self.now,
            lines=[LineInput(sku="SM-10", quantity=quantity)],
        )
        entry = PointsEntry.objects.get(order=placed, kind="earn")
        assert entry.points == 10 * quantity
        self.book_lot(entry)
        self.orders.append((placed, entry.pk, quantity))

    @precondition(lambda self: any(left for _, _, left in self.orders))
    @rule(data=st.data())
    def return_items(self, data: st.DataObject) -> None:
        i = data.draw(st.sampled_from([i for i, o in enumerate(self.orders) if o[2]]))
        placed, entry_pk, left = self.orders[i]
        quantity = data.draw(st.integers(1, left))
        ret = return_create(
            actor=None,
            order_line=placed.lines.get(),
            quantity=quantity,
            reason="defective",
            returned_at=self.now,
        )
        self.orders[i] = (placed, entry_pk, left - quantity)
        booking = services.points_reverse_for_return(ret=ret, at=self.now)
        due = 10 * quantity
        self.model_expire(timezone.localtime(self.now).date())
        own = next(
            lot for lot in self.lots if lot.pk == PointsLot.objects.get(entry_id=entry_pk).pk
        )
        taken = self.model_take(min(due, self.balance()), first=own)
        assert booking is not None
        assert (booking.entry.points, booking.entry.shortfall) == (-taken, due - taken)
        self.replays.append(
            (services.points_reverse_for_return, {"ret": ret, "at": self.now}, booking.entry.pk)
        )

    @precondition(lambda self: bool(self.replays))
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        function, kwargs, entry_pk = data.draw(st.sampled_from(self.replays))
        before = PointsEntry.objects.filter(account=self.account).count()
        booking = function(**kwargs)
        assert booking.replayed and booking.entry.pk == entry_pk
        assert PointsEntry.objects.filter(account=self.account).count() == before

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def ledger_agrees(self) -> None:
        account = LoyaltyAccount.objects.get(pk=self.account.pk)
        entries = PointsEntry.objects.filter(account=account).aggregate(s=Sum("points"))["s"] or 0
        lots = PointsLot.objects.filter(account=account).aggregate(s=Sum("remaining"))["s"] or 0
        assert account.balance == entries == lots == self.balance()

    @invariant()
    def lots_match_the_oldest_first_model(self) -> None:
        stored = dict(PointsLot.objects.filter(account=self.account).values_list("pk", "remaining"))
        assert all(r >= 0 for r in stored.values())
        assert stored == {lot.pk: lot.remaining for lot in self.lots}


def test_ledger_invariants_hold_for_any_sequence_of_operations(db: Any) -> None:
    LoyaltyProgram.objects.create(
        name="Machine", points_per_euro=Decimal(1), point_value=Decimal("0.01"), expiry_years=3
    )
    product("SM-10", price="10.00", category="Machine")
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=int(os.environ.get("LEDGER_EXAMPLES", "60")),
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
