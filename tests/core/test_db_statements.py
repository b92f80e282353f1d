"""The written-out statements read and write the same rows as the ORM."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from stammkunde.core.db.statements import row_insert, row_update, row_value, rows_fetch
from stammkunde.loyalty.models import LoyaltyAccount, PointsEntry, PointsLot
from tests.loyalty.factories import account

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = [f.attname for f in PointsEntry._meta.concrete_fields]


def _values(obj: object) -> dict[str, object]:
    return {name: getattr(obj, name) for name in FIELDS}


def test_an_inserted_row_reads_back_through_the_orm_unchanged(agent) -> None:
    acc = account()
    at = timezone.now().replace(microsecond=123456)
    entry = row_insert(
        PointsEntry(
            account=acc,
            kind="redeem",
            points=-70,
            created_at=at,
            idempotency_key="k-1",
            reason="Käse & Brot",
            agent=agent,
            amount=Decimal("0.70"),
            balance_after=30,
        )
    )
    assert entry.pk is not None and not entry._state.adding
    assert _values(PointsEntry.objects.get(pk=entry.pk)) == _values(entry)


def test_fetched_rows_equal_the_orms_with_the_joined_row() -> None:
    acc = account()
    row_insert(
        PointsLot(
            account=acc,
            entry=row_insert(
                PointsEntry(account=acc, kind="earn", points=5, created_at=timezone.now())
            ),
            earned_at=timezone.now(),
            points=5,
            remaining=5,
            expires_on=dt.date(2029, 12, 31),
        )
    )
    with transaction.atomic():
        (fast,) = rows_fetch(LoyaltyAccount, "r.id = %s", [acc.pk], join="program", for_update=True)
    orm = LoyaltyAccount.objects.select_related("program").get(pk=acc.pk)
    for field in LoyaltyAccount._meta.concrete_fields:
        assert getattr(fast, field.attname) == getattr(orm, field.attname), field.name
    for field in type(orm.program)._meta.concrete_fields:
        assert getattr(fast.program, field.attname) == getattr(orm.program, field.attname)
    (lot,) = rows_fetch(PointsLot, "r.account_id = %s", [acc.pk], order_by="r.earned_at")
    assert lot.expires_on == dt.date(2029, 12, 31) and lot.remaining == 5
    assert rows_fetch(PointsLot, "r.account_id = %s", [acc.pk], limit=1, offset=1) == []


def test_an_update_writes_only_the_named_fields() -> None:
    acc = account()
    stale = LoyaltyAccount.objects.get(pk=acc.pk)
    stale.balance, stale.referral_code = 99, "CHANGED"
    row_update(stale, ["balance"])
    fresh = LoyaltyAccount.objects.get(pk=acc.pk)
    assert fresh.balance == 99 and fresh.referral_code == acc.referral_code


def test_row_value_finds_the_first_match_or_none() -> None:
    acc = account()
    entry = row_insert(
        PointsEntry(
            account=acc, kind="earn", points=5, created_at=timezone.now(), idempotency_key="x"
        )
    )
    where = "r.account_id = %s AND r.idempotency_key = %s"
    assert row_value(PointsEntry, "id", where, [acc.pk, "x"]) == entry.pk
    assert row_value(PointsEntry, "id", where, [acc.pk, "y"]) is None
