"""Tiers: the qualifying value, upgrades at once, downgrades at the review date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from stammkunde.commerce.models import Order

from .. import lock_objects
from ..models import (
    LoyaltyAccount,
    LoyaltyProgram,
    PointsEntry,
    Tier,
)
from ._common import Kind


def tier_qualifying_value(account: LoyaltyAccount, today: dt.date) -> Decimal:
    """Return the points earned or euros spent in the 12 months up to ``today``."""
    since = dt.datetime.combine(today - dt.timedelta(days=365), dt.time(0, 0), tzinfo=dt.UTC)
    # Up to ``today`` only: orders booked after the fact (an import) must not count later ones.
    until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0, 0), tzinfo=dt.UTC)
    if account.program.tier_basis == LoyaltyProgram.TierBasis.POINTS:
        value = PointsEntry.objects.filter(
            account=account, kind=Kind.EARN, created_at__gte=since, created_at__lt=until
        ).aggregate(s=Sum("points"))["s"]
    else:
        value = Order.objects.filter(
            customer_id=account.customer_id,
            status=Order.Status.PAID,
            ordered_at__gte=since,
            ordered_at__lt=until,
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
