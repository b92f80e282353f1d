"""Earning, redeeming, expiry, returns, vouchers and checkout, through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from stammkunde.commerce.services import return_create
from stammkunde.core.errors import ApplicationError, ConflictError
from stammkunde.loyalty import services
from stammkunde.loyalty.cards import luhn_valid
from stammkunde.loyalty.models import LoyaltyAccount, PointsEntry, PointsLot, Voucher
from tests.commerce.factories import order, product
from tests.customers.factories import CustomerFactory

from .factories import account, program

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)


def assert_consistent(acc: LoyaltyAccount) -> None:
    acc.refresh_from_db()
    entries = PointsEntry.objects.filter(account=acc).aggregate(s=Sum("points"))["s"] or 0
    lots = PointsLot.objects.filter(account=acc).aggregate(s=Sum("remaining"))["s"] or 0
    assert acc.balance == entries == lots


def test_enrolled_account_has_a_luhn_card_number_and_the_entry_tier() -> None:
    acc = account()
    assert luhn_valid(acc.card_number) and len(acc.card_number) == 16
    assert acc.tier is not None and acc.tier.name == "Basis"


def test_earn_twice_with_the_same_key_books_once() -> None:
    # given
    acc = account()
    # when
    first = services.points_earn(account=acc, points=100, idempotency_key="k1")
    again = services.points_earn(account=acc, points=100, idempotency_key="k1")
    # then
    assert again.replayed and again.entry.pk == first.entry.pk
    assert PointsEntry.objects.filter(account=acc).count() == 1
    assert_consistent(acc)


def test_same_key_for_a_different_amount_is_a_conflict() -> None:
    acc = account()
    services.points_earn(account=acc, points=100, idempotency_key="k1")
    with pytest.raises(ConflictError):
        services.points_earn(account=acc, points=50, idempotency_key="k1")


@pytest.mark.parametrize("bad", [-5, 0, 1.5, "2.5", "abc", True, None])
def test_bad_points_are_refused_and_nothing_is_booked(bad: object) -> None:
    acc = account()
    with pytest.raises(ApplicationError) as err:
        services.points_earn(account=acc, points=bad, idempotency_key="k")
    assert "points" in err.value.field_errors
    assert not PointsEntry.objects.filter(account=acc).exists()


def test_redeem_above_balance_is_refused_and_nothing_is_booked() -> None:
    acc = account()
    services.points_earn(account=acc, points=100, idempotency_key="e")
    with pytest.raises(ApplicationError, match="Only 100 points"):
        services.points_redeem(account=acc, points=101, idempotency_key="r")
    assert_consistent(acc)
    assert acc.balance == 100


def test_redemption_takes_the_oldest_lot_first() -> None:
    acc = account()
    services.points_earn(account=acc, points=100, idempotency_key="old", at=T0)
    services.points_earn(
        account=acc, points=100, idempotency_key="new", at=T0 + dt.timedelta(days=30)
    )
    services.points_redeem(
        account=acc, points=150, idempotency_key="r", at=T0 + dt.timedelta(days=31)
    )
    lots = list(PointsLot.objects.filter(account=acc).order_by("earned_at"))
    assert [lot.remaining for lot in lots] == [0, 50]
    assert_consistent(acc)


def test_points_expire_at_the_end_of_the_third_year_after_earning() -> None:
    acc = account()
    services.points_earn(account=acc, points=70, idempotency_key="e", at=T0)
    assert services.points_expire(today=dt.date(2029, 12, 31)) == 0
    assert services.points_expire(today=dt.date(2030, 1, 1)) == 70
    assert services.points_expire(today=dt.date(2030, 1, 2)) == 0
    assert_consistent(acc)
    assert acc.balance == 0


def test_order_of_a_member_earns_points_and_first_purchase_bonus() -> None:
    # given
    customer = CustomerFactory()
    acc = account(customer)
    acc.program.first_purchase_bonus = 50
    acc.program.save()
    # when
    placed = order(customer, "L1", quantity=2)  # 2 x 59.90
    # then
    entries = PointsEntry.objects.filter(account=acc, order=placed)
    assert sorted(e.points for e in entries) == [50, 119]
    assert_consistent(acc)


def test_order_of_a_customer_without_account_books_nothing() -> None:
    program()
    order(CustomerFactory(), "L2")
    assert not PointsEntry.objects.exists()


def test_return_takes_back_points_and_spent_points_become_a_shortfall() -> None:
    # given a member who earned 119 points and spent 100 of them
    customer = CustomerFactory()
    acc = account(customer)
    placed = order(customer, "L3", quantity=2)
    services.points_redeem(account=acc, points=100, idempotency_key="spend")
    # when the whole order comes back
    ret = return_create(
        actor=None,
        order_line=placed.lines.get(),
        quantity=2,
        reason="defective",
        returned_at=T0 + dt.timedelta(days=3),
    )
    booking = services.points_reverse_for_return(ret=ret)
    again = services.points_reverse_for_return(ret=ret)
    # then only the 19 left are taken, 100 are forgiven, never a negative balance
    assert booking is not None and booking.entry.points == -19
    assert booking.entry.shortfall == 100
    assert again is not None and again.replayed
    assert_consistent(acc)
    assert acc.balance == 0


def test_spend_over_the_silver_threshold_upgrades_at_once() -> None:
    customer = CustomerFactory()
    acc = account(customer)
    product("E-BIKE", price="2000.00", category="E-Bikes")
    order(customer, "BIG", sku="E-BIKE")
    acc.refresh_from_db()
    assert acc.tier is not None and acc.tier.name == "Gold"


def test_downgrade_waits_for_the_review_date() -> None:
    customer = CustomerFactory()
    acc = account(customer)
    product("E-BIKE", price="2000.00", category="E-Bikes")
    order(customer, "BIG", sku="E-BIKE", at=dt.datetime(2026, 1, 10, tzinfo=dt.UTC))
    acc.refresh_from_db()
    review = acc.tier_review_at
    assert review is not None
    assert (
        services.tier_recalculate(account=acc, today=review - dt.timedelta(days=1)).name == "Gold"
    )
    assert (
        services.tier_recalculate(account=acc, today=review + dt.timedelta(days=2)).name == "Basis"
    )


def test_single_use_voucher_is_used_once_and_replay_returns_the_first_use() -> None:
    voucher = services.voucher_issue(actor=None, kind="amount", value="10")
    first = services.voucher_redeem(code=voucher.code, order_total="50", idempotency_key="a")
    again = services.voucher_redeem(code=voucher.code, order_total="50", idempotency_key="a")
    assert again.replayed and again.redemption.pk == first.redemption.pk
    with pytest.raises(ApplicationError, match="used up"):
        services.voucher_redeem(code=voucher.code, order_total="50", idempotency_key="b")
    voucher.refresh_from_db()
    assert voucher.uses == 1


@pytest.mark.parametrize(
    ("code", "total", "currency", "field"),
    [
        ("NOPE", "50", "EUR", "code"),
        (None, "5", "EUR", "order_total"),
        (None, "50", "USD", "currency"),
    ],
)
def test_bad_voucher_requests_are_refused(
    code: str | None, total: str, currency: str, field: str
) -> None:
    voucher = services.voucher_issue(actor=None, kind="percent", value="10", min_order="20")
    with pytest.raises(ApplicationError) as err:
        services.voucher_redeem(
            code=code or voucher.code, order_total=total, idempotency_key="x", currency=currency
        )
    assert field in err.value.field_errors
    assert Voucher.objects.get(pk=voucher.pk).uses == 0


def test_expired_voucher_is_refused() -> None:
    voucher = services.voucher_issue(
        actor=None, kind="amount", value="5", valid_from=T0, valid_until=T0 + dt.timedelta(days=1)
    )
    with pytest.raises(ApplicationError, match="expired"):
        services.voucher_quote(code=voucher.code, order_total="50")


def test_batch_codes_are_unique_and_unguessable() -> None:
    batch = services.voucher_batch_create(
        actor=None, name="Frühling", count=200, kind="percent", value="15"
    )
    codes = list(batch.vouchers.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 200
    assert all(len(c) == 12 for c in codes)


def test_checkout_quote_then_commit_books_voucher_and_points_once() -> None:
    # given
    acc = account()
    services.points_earn(account=acc, points=5000, idempotency_key="e")
    voucher = services.voucher_issue(actor=None, kind="amount", value="10")
    # when
    quote = services.checkout_quote(account=acc, order_total="30.00", voucher_code=voucher.code)
    result = services.checkout_commit(token=quote.token, idempotency_key="till-1")
    again = services.checkout_commit(token=quote.token, idempotency_key="till-1")
    # then 10 EUR voucher, 20 EUR = 2000 points
    assert (quote.voucher_discount, quote.points, quote.payable) == (
        Decimal("10.00"),
        2000,
        Decimal("0.00"),
    )
    assert result.balance == 3000 and not result.replayed
    assert again.replayed and again.balance == 3000
    assert_consistent(acc)


def test_goodwill_above_the_agents_limit_is_refused(make_user) -> None:  # type: ignore[no-untyped-def]
    agent = make_user("agent")
    acc = account()
    with pytest.raises(ApplicationError, match="goodwill limit"):
        services.points_goodwill_grant(
            actor=agent, account=acc, points=5001, reason="sorry", idempotency_key="g"
        )
    booking = services.points_goodwill_grant(
        actor=agent, account=acc, points=5000, reason="sorry", idempotency_key="g"
    )
    assert booking.entry.kind == "adjust" and booking.entry.agent == agent


def test_referral_rewards_both_after_the_first_paid_order() -> None:
    referrer = account(first_purchase_bonus=0)
    acc = referrer.program
    acc.referral_bonus_referrer, acc.referral_bonus_referee = 300, 200
    acc.save()
    newcomer = CustomerFactory()
    referee = services.account_enroll(customer=newcomer, referral_code=referrer.referral_code)
    order(newcomer, "R1")
    order(newcomer, "R2", at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
    assert PointsEntry.objects.filter(account=referrer, reason__startswith="referral").count() == 1
    assert PointsEntry.objects.filter(account=referee, reason__startswith="referral").count() == 1
    referrer.refresh_from_db()
    assert referrer.balance == 300


def test_stamp_card_rewards_grow_with_each_full_card() -> None:
    from stammkunde.loyalty.models import StampCardDefinition

    customer = CustomerFactory()
    acc = account(customer)
    StampCardDefinition.objects.create(
        program=acc.program,
        name="Inspektion",
        stamps_required=2,
        reward_points=100,
        reward_growth_points=50,
    )
    product("WS-INSP", price="0.00", category="Werkstatt", is_service=True)
    for i in range(4):
        order(customer, f"S{i}", sku="WS-INSP", at=T0 + dt.timedelta(days=i))
    rewards = sorted(
        PointsEntry.objects.filter(account=acc, reason__startswith="Inspektion").values_list(
            "points", flat=True
        )
    )
    assert rewards == [100, 150]


def test_expire_command_runs_the_job_as_of_a_date() -> None:
    from io import StringIO

    from django.core.management import call_command

    acc = account()
    services.points_earn(account=acc, points=70, idempotency_key="e", at=T0)
    out = StringIO()
    call_command("loyalty", "expire", "--date", "2030-01-01", stdout=out)
    assert "70 points expired" in out.getvalue()


def test_birthday_bonus_is_awarded_once_a_year() -> None:
    customer = CustomerFactory(birthday=dt.date(1980, 6, 15))
    acc = account(customer)
    acc.program.birthday_bonus = 200
    acc.program.save()
    account(CustomerFactory(birthday=dt.date(1980, 6, 16)))
    assert services.birthday_bonuses_award(today=dt.date(2026, 6, 15)) == 1
    assert services.birthday_bonuses_award(today=dt.date(2026, 6, 15)) == 0
    acc.refresh_from_db()
    assert acc.balance == 200


def test_tier_price_list_gives_the_members_price() -> None:
    from stammkunde.loyalty.models import TierPrice
    from stammkunde.loyalty.selectors import tier_price

    acc = account()
    helmet = product()
    assert tier_price(account=acc, product=helmet) == Decimal("59.90")
    assert acc.tier is not None
    TierPrice.objects.create(tier=acc.tier, product=helmet, price=Decimal("49.90"))
    assert tier_price(account=acc, product=helmet) == Decimal("49.90")


def test_voucher_per_customer_limit_and_binding_to_a_customer() -> None:
    anna, ben = CustomerFactory(), CustomerFactory()
    shared = services.voucher_issue(
        actor=None, kind="amount", value="5", max_uses=10, per_customer_limit=1
    )
    services.voucher_redeem(code=shared.code, order_total="20", idempotency_key="a1", customer=anna)
    with pytest.raises(ApplicationError, match="as often as allowed"):
        services.voucher_redeem(
            code=shared.code, order_total="20", idempotency_key="a2", customer=anna
        )
    services.voucher_redeem(code=shared.code, order_total="20", idempotency_key="b1", customer=ben)
    personal = services.voucher_issue(actor=None, kind="amount", value="5", customer=anna)
    with pytest.raises(ApplicationError, match="another customer"):
        services.voucher_quote(code=personal.code, order_total="20", customer=ben)


def test_returning_an_order_line_takes_back_points_through_the_return_hook() -> None:
    # given a member whose order earned points
    from datetime import UTC, datetime

    from django.db.models import Sum

    from stammkunde.commerce.services import return_create
    from tests.commerce.factories import order
    from tests.loyalty.factories import account

    member = account()
    line = order(member.customer, "B-HOOK", quantity=1).lines.get()
    after_order = member.entries.aggregate(s=Sum("points"))["s"]
    # when
    return_create(
        actor=None,
        order_line=line,
        quantity=1,
        reason="defective",
        returned_at=datetime(2026, 3, 5, tzinfo=UTC),
    )
    # then
    assert after_order > 0
    assert member.entries.aggregate(s=Sum("points"))["s"] < after_order
