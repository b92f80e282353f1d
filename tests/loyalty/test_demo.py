"""The demo loyalty data: members, history that satisfies the ledger invariants, vouchers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db.models import Sum

from stammkunde.customers.models import Customer
from stammkunde.demo.generator import demo_generate
from stammkunde.loyalty.cards import luhn_valid
from stammkunde.loyalty.demo import loyalty_demo_generate
from stammkunde.loyalty.models import LoyaltyAccount, PointsEntry, PointsLot, Voucher

pytestmark = pytest.mark.django_db(transaction=True)
END = datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)


def test_demo_members_have_a_consistent_history_tiers_and_vouchers() -> None:
    # given
    demo_generate(customers=400, seed=3, end=END, chunk_size=200)
    # when
    result = loyalty_demo_generate(seed=3, end=END)
    again = loyalty_demo_generate(seed=3, end=END)
    # then
    share = result.accounts / Customer.objects.count()
    assert 0.3 < share < 0.5
    assert again.accounts == 0  # loading twice adds nothing
    entries = dict(
        PointsEntry.objects.values_list("account_id")
        .annotate(s=Sum("points"))
        .values_list("account_id", "s")
    )
    lots = dict(
        PointsLot.objects.values_list("account_id")
        .annotate(s=Sum("remaining"))
        .values_list("account_id", "s")
    )
    for account in LoyaltyAccount.objects.all():
        assert account.balance == entries.get(account.pk, 0) == lots.get(account.pk, 0)
        assert luhn_valid(account.card_number)
    kinds = set(PointsEntry.objects.values_list("kind", flat=True))
    assert {"earn", "redeem"} <= kinds
    # Three years of history: the oldest points expire at the end of this year.
    assert PointsLot.objects.filter(
        remaining__gt=0, expires_on=datetime(2026, 12, 31).date()
    ).exists()
    assert LoyaltyAccount.objects.exclude(tier__name="Basis").exists()
    assert (
        Voucher.objects.filter(uses=1).exists()
        and Voucher.objects.filter(customer__isnull=False).exists()
    )
    assert PointsLot.objects.filter(remaining__lt=0).count() == 0
