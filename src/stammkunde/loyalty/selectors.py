"""Reads of loyalty data: the customer panel, self-service, reports, tier prices."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.commerce.models import Order, Product
from stammkunde.core.access import User
from stammkunde.core.roles import ADMIN, has_role, is_internal
from stammkunde.customers.models import Customer

from . import services
from .models import (
    LoyaltyAccount,
    LoyaltyProgram,
    PointsEntry,
    PointsLot,
    StampCard,
    Tier,
    TierPrice,
    Voucher,
)

EXPIRY_WARNING_DAYS = 180


def account_for_customer(*, customer: Customer, user: User) -> LoyaltyAccount | None:
    """Return the customer's account in the active program, if the user may see it."""
    return (
        LoyaltyAccount.objects.visible_to(user)
        .filter(customer=customer, program__active=True)
        .select_related("program", "tier")
        .order_by("pk")
        .first()
    )


def lots_expiring(
    *, account: LoyaltyAccount, within_days: int = EXPIRY_WARNING_DAYS
) -> list[PointsLot]:
    """Return the account's lots with points left that expire within ``within_days``."""
    until = timezone.localdate() + dt.timedelta(days=within_days)
    return list(
        PointsLot.objects.filter(account=account, remaining__gt=0, expires_on__lte=until).order_by(
            "expires_on", "earned_at"
        )
    )


def vouchers_of(*, customer: Customer) -> list[Voucher]:
    """Return the vouchers issued to the customer that can still be used."""
    now = timezone.now()
    return list(
        Voucher.objects.filter(customer=customer)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=now))
        .order_by("-created_at")[:20]
    )


def goodwill_payouts_fill(*, grants: Any, found: dict[int, dict[str, Any]]) -> None:
    """Fill ``found`` with the voucher each goodwill grant issued (``goodwill_payouts`` hook).

    A goodwill voucher carries the issue key ``goodwill:<grant id>``; its status is
    *redeemed* once used up, *expired* past its end date, otherwise *issued*.
    """
    ids = [g.pk for g in grants if g.kind == "voucher"]
    if not ids:
        return
    now = timezone.now()
    for voucher in Voucher.objects.filter(issue_key__in=[f"goodwill:{pk}" for pk in ids]):
        if voucher.uses >= voucher.max_uses:
            status, label = "redeemed", _("redeemed")
        elif voucher.valid_until is not None and voucher.valid_until < now:
            status, label = "expired", _("expired")
        else:
            status, label = "issued", _("issued")
        grant_id = int(str(voucher.issue_key).split(":", 1)[1])
        found[grant_id] = {
            "code": voucher.code,
            "status": status,
            "status_label": label,
            "valid_until": voucher.valid_until,
        }


def _account_view(account: LoyaltyAccount) -> dict[str, Any]:
    return {
        "account": account,
        "balance_value": services.points_value(account.balance, account.program),
        "expiring": lots_expiring(account=account),
        "history": list(
            PointsEntry.objects.filter(account=account)
            .select_related("order", "agent")
            .order_by("-created_at", "-id")[:15]
        ),
        "vouchers": vouchers_of(customer=account.customer),
        "stamp_cards": list(StampCard.objects.filter(account=account).select_related("definition")),
    }


def customer_loyalty_context(customer: Customer, user: User) -> dict[str, Any]:
    """Return what the customer 360 panel shows: balance, tier, expiring lots, history."""
    account = account_for_customer(customer=customer, user=user)
    context: dict[str, Any] = {
        "customer": customer,
        "program": services.program_default() if is_internal(user) else None,
        "can_grant": user.has_perm("loyalty.change_loyaltyaccount"),  # type: ignore[union-attr] # signed in
        "goodwill_limit": services.goodwill_limit_for(user) if is_internal(user) else Decimal(0),
        # A new key per rendered form: a double click or a resent form books once.
        "goodwill_key": f"goodwill:{uuid.uuid4()}",
    }
    if account is None:
        return context
    context.update(_account_view(account))
    context["self_service_token"] = services.self_service_token(account)
    return context


def account_from_self_service_token(token: str) -> dict[str, Any] | None:
    """Return the self-service view of the account a signed link names, or None."""
    account_id = services.self_service_account_id(token)
    if account_id is None:
        return None
    # The signature is the access check: the link was made for exactly this account.
    account = (
        LoyaltyAccount.objects.filter(pk=account_id)
        .select_related("program", "tier", "customer")
        .first()
    )
    if account is None:
        return None
    return _account_view(account)


def tier_price(*, account: LoyaltyAccount, product: Product) -> Decimal:
    """Return the product's price for the account's tier (the list price without one)."""
    if account.tier_id is None:
        return product.price
    found = TierPrice.objects.filter(tier_id=account.tier_id, product=product).first()
    return found.price if found is not None else product.price


@dataclass(frozen=True)
class LoyaltyReport:
    program: LoyaltyProgram
    members: int
    members_per_tier: list[tuple[str, int]]
    outstanding_points: int
    liability: Decimal
    earned_points: int
    redeemed_points: int
    expired_points: int
    redemption_rate: float
    breakage_rate: float
    repeat_rate_members: float
    repeat_rate_others: float
    vouchers_issued: int
    vouchers_used: int
    shortfall_points: int


def _ratio(part: float, whole: float) -> float:
    return float(part) / float(whole) if whole else 0.0


def loyalty_report(*, user: User, program: LoyaltyProgram | None = None) -> LoyaltyReport | None:
    """Return the program's figures: members per tier, liability, redemption, breakage.

    Redemption rate = points redeemed / points issued (earned and positive
    adjustments); breakage = points expired / points issued. Repeat-purchase
    rate = share of customers with at least one order who ordered twice or more,
    for members and for the other customers.
    """
    program = program or LoyaltyProgram.objects.visible_to(user).filter(active=True).first()
    if program is None or not is_internal(user):
        return None
    accounts = LoyaltyAccount.objects.filter(program=program)
    per_tier = dict(
        accounts.values_list("tier__name").annotate(n=Count("id")).values_list("tier__name", "n")
    )
    tiers = [(t.name, per_tier.get(t.name, 0)) for t in Tier.objects.filter(program=program)]
    outstanding = accounts.aggregate(s=Sum("balance"))["s"] or 0
    sums = dict(
        PointsEntry.objects.filter(account__program=program)
        .values_list("kind")
        .annotate(s=Sum("points"))
        .values_list("kind", "s")
    )
    issued = (sums.get("earn") or 0) + (
        PointsEntry.objects.filter(account__program=program, kind="adjust", points__gt=0).aggregate(
            s=Sum("points")
        )["s"]
        or 0
    )
    redeemed = -(sums.get("redeem") or 0)
    expired = -(sums.get("expire") or 0)
    per_buyer = (
        Order.objects.filter(status=Order.Status.PAID).values("customer_id").annotate(n=Count("id"))
    )
    member_ids = accounts.values("customer_id")
    rates = {
        is_member: _ratio(qs.filter(n__gte=2).count(), qs.count())
        for is_member, qs in (
            (True, per_buyer.filter(customer_id__in=member_ids)),
            (False, per_buyer.exclude(customer_id__in=member_ids)),
        )
    }
    vouchers = Voucher.objects.aggregate(n=Count("id"), used=Count("id", filter=Q(uses__gt=0)))
    shortfall = (
        PointsEntry.objects.filter(account__program=program, kind="reverse").aggregate(
            s=Sum("shortfall")
        )["s"]
        or 0
    )
    return LoyaltyReport(
        program=program,
        members=accounts.count(),
        members_per_tier=tiers,
        outstanding_points=outstanding,
        liability=services.points_value(outstanding, program),
        earned_points=issued,
        redeemed_points=redeemed,
        expired_points=expired,
        redemption_rate=_ratio(redeemed, issued),
        breakage_rate=_ratio(expired, issued),
        repeat_rate_members=rates.get(True, 0.0),
        repeat_rate_others=rates.get(False, 0.0),
        vouchers_issued=vouchers["n"],
        vouchers_used=vouchers["used"],
        shortfall_points=shortfall,
    )


def customer_data_export(customer: Customer) -> dict[str, Any]:
    """Loyalty accounts, the points ledger, vouchers, redemptions, stamp cards (Art. 15)."""
    from stammkunde.core.personal import rows

    from .models import Referral, VoucherRedemption

    accounts = LoyaltyAccount.objects.filter(customer=customer)
    ids = accounts.values("id")
    return {
        "loyalty_accounts": rows(accounts),
        "points_ledger": rows(PointsEntry.objects.filter(account__in=ids)),
        "stamp_cards": rows(StampCard.objects.filter(account__in=ids)),
        "referrals": rows(Referral.objects.filter(Q(referrer__in=ids) | Q(referee__in=ids))),
        "vouchers": rows(Voucher.objects.filter(customer=customer)),
        "voucher_redemptions": rows(VoucherRedemption.objects.filter(customer=customer)),
    }


def customer_data_kept(customer: Customer) -> dict[str, int]:
    """Ledger rows an erasure keeps (pseudonymous) so that the programme's sums stay right."""
    return {
        "points_ledger": PointsEntry.objects.filter(account__customer=customer).count(),
    }


def referral_code_of(*, customer_id: int) -> str:
    """The referral code of the customer's loyalty account, or "" when they have none."""
    code = LoyaltyAccount.objects.filter(customer_id=customer_id).values_list(
        "referral_code", flat=True
    )
    return code.first() or ""


# --------------------------------------------------------------------------- settings page


def may_set_program_rules(user: User) -> bool:
    """Who edits the programme rules on the settings page (``/loyalty/settings/``): admins."""
    return has_role(user, ADMIN)


def programs_with_tiers(*, user: User) -> list[LoyaltyProgram]:
    """The programs ``user`` may see, each with its tiers by rank (the settings list)."""
    return list(LoyaltyProgram.objects.visible_to(user).prefetch_related("tiers").order_by("name"))


def program_get(*, user: User, pk: Any) -> LoyaltyProgram | None:
    """One program ``user`` may see, or None."""
    return LoyaltyProgram.objects.visible_to(user).filter(pk=pk).first()
