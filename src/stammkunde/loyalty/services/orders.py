"""Accrual on orders: order points, first-purchase bonus, referral rewards, stamp cards."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.utils import timezone

from stammkunde.commerce.models import Order

from .. import lock_objects
from ..models import (
    LoyaltyAccount,
    Referral,
    StampCard,
)
from ._common import Booking
from ._ledger import _earn
from .tiers import _tier_apply


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
