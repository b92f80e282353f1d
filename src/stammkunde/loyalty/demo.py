"""Demo loyalty data: the "Radclub" program with tiers, a workshop stamp card and vouchers.

About 40 % of the demo customers are members. Their paid orders earn points
(with the category multipliers), some members redeem points now and then,
lots older than the expiry rule have expired, and tiers follow the spend of
the last 12 months. The history is simulated in Python per account (so the
ledger invariants hold: balance = sum of entries = sum of lot remainders) and
written with set-based inserts.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from stammkunde.commerce.models import Order, OrderLine, ProductCategory
from stammkunde.core.db import bulk_insert, next_id, sequences_reset
from stammkunde.core.sequences import counter_next
from stammkunde.customers.models import Customer

from .cards import card_number_for, random_code
from .models import (
    CategoryMultiplier,
    LoyaltyAccount,
    LoyaltyProgram,
    PointsEntry,
    PointsLot,
    StampCard,
    StampCardDefinition,
    Tier,
    Voucher,
)
from .services import expiry_date, voucher_batch_create, voucher_issue

PROGRAM_NAME = "Radclub"
MEMBER_SHARE = 0.4
TIERS = (
    # name, threshold (EUR spend in 12 months), points multiplier, discount %, SLA, add-ons
    ("Basis", 0, "1.00", 0, "standard", ""),
    ("Silber", 500, "1.25", 3, "priority", "Kettenpflege gratis"),
    ("Gold", 1500, "1.50", 5, "premium", "Hol- und Bringservice gratis, Inspektion -20 %"),
)
MULTIPLIERS = {"Werkstatt": "2.00", "Zubehör": "1.50"}


@dataclass
class LoyaltyDemoResult:
    accounts: int = 0
    entries: int = 0
    lots: int = 0
    vouchers: int = 0
    seconds: float = 0.0


def program_ensure() -> LoyaltyProgram:
    """Create the demo program with its tiers, multipliers and stamp card once."""
    program, created = LoyaltyProgram.objects.get_or_create(
        name=PROGRAM_NAME,
        defaults={
            "points_per_euro": Decimal("1"),
            "point_value": Decimal("0.01"),
            "min_redeem_points": 100,
            "expiry_years": 3,
            "tier_basis": LoyaltyProgram.TierBasis.SPEND,
            "first_purchase_bonus": 100,
            "birthday_bonus": 200,
            "survey_bonus": 50,
            "referral_bonus_referrer": 500,
            "referral_bonus_referee": 250,
        },
    )
    if created:
        for rank, (name, threshold, factor, discount, sla, addons) in enumerate(TIERS):
            Tier.objects.create(
                program=program,
                name=name,
                rank=rank,
                threshold=Decimal(threshold),
                points_multiplier=Decimal(factor),
                discount_percent=Decimal(discount),
                sla_class=sla,
                free_addons=addons,
            )
        for category in ProductCategory.objects.filter(name__in=MULTIPLIERS):
            CategoryMultiplier.objects.create(
                program=program, category=category, multiplier=Decimal(MULTIPLIERS[category.name])
            )
        StampCardDefinition.objects.create(
            program=program,
            name="Werkstatt-Stempelkarte",
            stamps_required=5,
            reward_points=500,
            reward_growth_points=250,
            reward_cap_points=1500,
        )
    return program


class _AccountSim:
    """One member's ledger played forward in Python: lots, oldest first, and entries."""

    def __init__(
        self,
        account_id: int,
        program: LoyaltyProgram,
        entries: list[tuple],
        entry_ids: Iterator[int],
        lot_ids: Iterator[int],
    ) -> None:
        self.account_id = account_id
        self.program = program
        self.entries = entries
        self.entry_ids = entry_ids
        self.lot_ids = lot_ids
        self.lots: list[list[Any]] = []  # [lot id, earned_at, points, remaining, expires, entry]
        self.balance = 0

    def book(
        self,
        kind: str,
        points: int,
        at: dt.datetime,
        key: str,
        reason: str,
        order_id: int | None = None,
    ) -> int:
        entry_id = next(self.entry_ids)
        self.balance += points
        self.entries.append(
            (
                entry_id,
                self.account_id,
                kind,
                points,
                at,
                key,
                reason,
                order_id,
                self.balance,
                0,
                "",
            )
        )
        return entry_id

    def earn(
        self, points: int, at: dt.datetime, key: str, reason: str, order_id: int | None
    ) -> None:
        entry_id = self.book("earn", points, at, key, reason, order_id)
        self.lots.append(
            [next(self.lot_ids), at, points, points, expiry_date(self.program, at), entry_id]
        )

    def redeem(self, points: int, at: dt.datetime, key: str) -> None:
        left = points
        for lot in self.lots:
            part = min(lot[3], left)
            lot[3] -= part
            left -= part
        self.book("redeem", -points, at, key, "checkout")

    def expire_until(self, at: dt.datetime) -> None:
        for lot in self.lots:
            if lot[3] and lot[4] is not None and lot[4] < at.date():
                booked = dt.datetime.combine(
                    lot[4] + dt.timedelta(days=1), dt.time(3), tzinfo=dt.UTC
                )
                self.book(
                    "expire",
                    -lot[3],
                    booked,
                    f"expire:lot:{lot[0]}",
                    f"expired on {lot[4]:%Y-%m-%d}",
                )
                lot[3] = 0

    def lot_rows(self) -> list[tuple]:
        return [
            (lot[0], self.account_id, lot[5], lot[1], lot[2], lot[3], lot[4]) for lot in self.lots
        ]


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def loyalty_demo_generate(*, seed: int, end: dt.datetime | None = None) -> LoyaltyDemoResult:
    """Enrol ~40 % of the demo customers and write their points history up to ``end``."""
    started = time.perf_counter()
    end = end or timezone.now()
    rng = np.random.default_rng(seed + 606)
    result = LoyaltyDemoResult()
    with transaction.atomic():
        program = program_ensure()
        if LoyaltyAccount.objects.filter(program=program).exists():
            return result
        tiers = list(Tier.objects.filter(program=program).order_by("rank"))
        multipliers = {
            m.category_id: m.multiplier for m in CategoryMultiplier.objects.filter(program=program)
        }
        stamp_card = StampCardDefinition.objects.filter(program=program).first()
        customer_rows = list(
            Customer.objects.filter(erased_at__isnull=True, merged_into__isnull=True)
            .order_by("pk")
            .values_list("pk", "created_at")
        )
        members = [row for row in customer_rows if rng.random() < MEMBER_SHARE]
        if not members:
            return result
        member_ids = [pk for pk, _ in members]

        # Order value per order and category (for the category multipliers), and service lines.
        order_base: dict[int, Decimal] = defaultdict(Decimal)
        services_per_order: dict[int, int] = defaultdict(int)
        lines = OrderLine.objects.filter(
            order__customer_id__in=member_ids, order__status=Order.Status.PAID
        ).values_list(
            "order_id", "product__category_id", "line_total", "quantity", "product__is_service"
        )
        for order_id, category_id, total, quantity, is_service in lines.iterator(chunk_size=20_000):
            order_base[order_id] += total * multipliers.get(category_id, Decimal(1))
            if is_service:
                services_per_order[order_id] += quantity
        orders_by_customer: dict[int, list[tuple[int, dt.datetime, Decimal]]] = defaultdict(list)
        numbers: dict[int, str] = {}
        for order_id, customer_id, at, total, number in (
            Order.objects.filter(customer_id__in=member_ids, status=Order.Status.PAID)
            .order_by("ordered_at", "pk")
            .values_list("pk", "customer_id", "ordered_at", "total", "number")
            .iterator(chunk_size=20_000)
        ):
            orders_by_customer[customer_id].append((order_id, _utc(at), total))
            numbers[order_id] = number

        first_card = counter_next("loyalty_card", count=len(members))
        account_id = next_id(LoyaltyAccount)
        entry_ids = itertools.count(next_id(PointsEntry))
        lot_ids = itertools.count(next_id(PointsLot))
        accounts: list[tuple] = []
        entries: list[tuple] = []
        lots: list[tuple] = []
        cards: list[tuple] = []
        year_ago = end - dt.timedelta(days=365)
        for n, (customer_id, created_at) in enumerate(members):
            orders = orders_by_customer.get(customer_id, [])
            sim = _AccountSim(account_id, program, entries, entry_ids, lot_ids)
            stamps = completed = 0
            for i, (order_id, at, _total) in enumerate(orders):
                sim.expire_until(at)
                points = int(order_base[order_id].to_integral_value(ROUND_FLOOR))
                if points > 0:
                    sim.earn(
                        points, at, f"order:{order_id}", f"order {numbers[order_id]}", order_id
                    )
                if i == 0 and program.first_purchase_bonus:
                    sim.earn(
                        program.first_purchase_bonus,
                        at,
                        "first-purchase",
                        "first purchase bonus",
                        order_id,
                    )
                stamps += services_per_order.get(order_id, 0)
                while stamp_card is not None and stamps >= stamp_card.stamps_required:
                    stamps -= stamp_card.stamps_required
                    reward = min(
                        stamp_card.reward_cap_points,
                        stamp_card.reward_points + stamp_card.reward_growth_points * completed,
                    )
                    completed += 1
                    sim.earn(
                        reward,
                        at,
                        f"stamp:demo:{completed}",
                        f"{stamp_card.name}: card {completed} full",
                        order_id,
                    )
                # Now and then a member spends points at the till a few days later.
                if sim.balance >= 500 and rng.random() < 0.25:
                    spend_at = at + dt.timedelta(days=int(rng.integers(1, 30)))
                    if spend_at < end:
                        sim.expire_until(spend_at)
                        spend = min(sim.balance, int(rng.integers(1, 6)) * 500)
                        if spend >= program.min_redeem_points:
                            sim.redeem(spend, spend_at, f"demo-redeem:{order_id}")
            sim.expire_until(end)
            spend_year = sum((o[2] for o in orders if o[1] >= year_ago), Decimal(0))
            tier = max((t for t in tiers if t.threshold <= spend_year), key=lambda t: t.rank)
            enrolled = min([_utc(created_at)] + [o[1] for o in orders[:1]])
            accounts.append(
                (
                    account_id,
                    customer_id,
                    program.pk,
                    card_number_for(first_card + n),
                    random_code(8),
                    tier.pk,
                    (end + dt.timedelta(days=200)).date(),
                    sim.balance,
                    enrolled,
                )
            )
            lots.extend(sim.lot_rows())
            if stamp_card is not None and (stamps or completed):
                cards.append((account_id, stamp_card.pk, stamps, completed))
            account_id += 1

        result.accounts = bulk_insert(
            LoyaltyAccount,
            [
                "id",
                "customer",
                "program",
                "card_number",
                "referral_code",
                "tier",
                "tier_review_at",
                "balance",
                "enrolled_at",
            ],
            accounts,
        )
        result.entries = bulk_insert(
            PointsEntry,
            [
                "id",
                "account",
                "kind",
                "points",
                "created_at",
                "idempotency_key",
                "reason",
                "order",
                "balance_after",
                "shortfall",
                "campaign",
            ],
            entries,
        )
        result.lots = bulk_insert(
            PointsLot,
            ["id", "account", "entry", "earned_at", "points", "remaining", "expires_on"],
            lots,
        )
        bulk_insert(StampCard, ["account", "definition", "stamps", "completed"], cards)
        sequences_reset(LoyaltyAccount, PointsEntry, PointsLot, StampCard)

        # Vouchers: a spring campaign batch (some used) and goodwill vouchers for a few members.
        batch = voucher_batch_create(
            actor=None,
            name="Frühjahrscheck 2026",
            count=300,
            kind="percent",
            value="15",
            min_order="50",
            valid_until=end + dt.timedelta(days=90),
            campaign="spring",
            valid_from=end - dt.timedelta(days=60),
        )
        used = list(batch.vouchers.order_by("pk")[:60])
        for v in used:
            v.uses = 1
        Voucher.objects.bulk_update(used, ["uses"])
        picked = rng.choice(len(members), size=min(25, len(members)), replace=False)
        for i in picked:
            voucher_issue(
                actor=None,
                kind="amount",
                value="10",
                customer=Customer(pk=members[int(i)][0]),
                reason="Entschuldigung Lieferverzug",
                valid_until=end + dt.timedelta(days=365),
            )
        result.vouchers = 300 + len(picked)
    result.seconds = time.perf_counter() - started
    return result
