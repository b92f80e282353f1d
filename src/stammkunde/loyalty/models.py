"""Loyalty: programs, tiers, accounts with an append-only points ledger, lots, vouchers.

Rules live in ``services.py``; the models carry the invariants the database
can check (signs of ledger entries, lot remainders, one idempotency key per
account).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from stammkunde.commerce.models import Order, Product, ProductCategory
from stammkunde.core.access import InternalOnlyQuerySet
from stammkunde.customers.models import Customer

_M = TypeVar("_M", bound=models.Model)


# Internal staff see all loyalty data (core.access.InternalOnlyQuerySet); customers reach
# their own account only through the signed self-service link
# (``selectors.account_from_self_service_token``), never through the access predicate.


class LoyaltyProgram(models.Model):
    """How points are earned, what they are worth, when they expire (set up in the UI)."""

    class TierBasis(models.TextChoices):
        POINTS = "points", _("points earned in the last 12 months")
        SPEND = "spend", _("spend in the last 12 months")

    name = models.CharField(_("name"), max_length=100, unique=True)
    active = models.BooleanField(_("active"), default=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    points_per_euro = models.DecimalField(
        _("points per euro"), max_digits=8, decimal_places=3, default=Decimal("1.000")
    )
    point_value = models.DecimalField(
        _("value of one point (EUR)"),
        max_digits=8,
        decimal_places=4,
        default=Decimal("0.0100"),
        help_text=_("Used for redemption, goodwill limits and the points liability."),
    )
    min_redeem_points = models.PositiveIntegerField(_("minimum points per redemption"), default=1)
    expiry_years = models.PositiveSmallIntegerField(
        _("points expire at the end of year N after earning"),
        default=3,
        help_text=_("0: points never expire."),
    )
    tier_basis = models.CharField(
        _("tier basis"), max_length=10, choices=TierBasis.choices, default=TierBasis.SPEND
    )
    first_purchase_bonus = models.PositiveIntegerField(_("first purchase bonus"), default=0)
    birthday_bonus = models.PositiveIntegerField(_("birthday bonus"), default=0)
    survey_bonus = models.PositiveIntegerField(_("survey answered bonus"), default=0)
    referral_bonus_referrer = models.PositiveIntegerField(_("referral bonus (referrer)"), default=0)
    referral_bonus_referee = models.PositiveIntegerField(
        _("referral bonus (new customer)"), default=0
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("loyalty program")
        verbose_name_plural = _("loyalty programs")
        constraints = [
            models.CheckConstraint(
                condition=Q(points_per_euro__gte=0), name="program_points_per_euro_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(point_value__gt=0), name="program_point_value_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CategoryMultiplier(models.Model):
    """Earn more (or less) points on one product category."""

    program = models.ForeignKey(
        LoyaltyProgram, on_delete=models.CASCADE, related_name="category_multipliers"
    )
    category = models.ForeignKey(ProductCategory, on_delete=models.CASCADE, related_name="+")
    multiplier = models.DecimalField(
        _("multiplier"), max_digits=5, decimal_places=2, default=Decimal("1.00")
    )

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("category multiplier")
        verbose_name_plural = _("category multipliers")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "category"], name="one_multiplier_per_category"
            ),
            models.CheckConstraint(
                condition=Q(multiplier__gte=0), name="category_multiplier_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} x{self.multiplier}"


class Tier(models.Model):
    """A club level: reached by points or spend over a rolling 12 months."""

    program = models.ForeignKey(LoyaltyProgram, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(_("name"), max_length=60)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("0 = entry level"))
    threshold = models.DecimalField(
        _("threshold"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("Points or euros (see the program's tier basis) in the last 12 months."),
    )
    points_multiplier = models.DecimalField(
        _("points multiplier"), max_digits=5, decimal_places=2, default=Decimal("1.00")
    )
    discount_percent = models.DecimalField(
        _("discount %"), max_digits=5, decimal_places=2, default=Decimal("0")
    )
    sla_class = models.CharField(_("service level class"), max_length=20, blank=True)
    free_addons = models.CharField(_("free add-on services"), max_length=300, blank=True)

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["program", "rank"]
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        constraints = [
            models.UniqueConstraint(fields=["program", "rank"], name="one_tier_per_rank"),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="tier_threshold_gte_0"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="tier_discount_0_100",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LoyaltyAccount(models.Model):
    """A customer's membership: card, tier and the cached balance of the ledger."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="loyalty_accounts"
    )
    program = models.ForeignKey(LoyaltyProgram, on_delete=models.PROTECT, related_name="accounts")
    card_number = models.CharField(_("card number"), max_length=20, unique=True)
    referral_code = models.CharField(_("referral code"), max_length=12, unique=True)
    tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    tier_review_at = models.DateField(_("tier review date"), null=True, blank=True)
    # Cached sum of the ledger; services change it under the account's row lock.
    balance = models.IntegerField(_("balance (points)"), default=0)
    enrolled_at = models.DateTimeField(_("enrolled"))

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("loyalty account")
        verbose_name_plural = _("loyalty accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "program"], name="one_account_per_customer_and_program"
            ),
            models.CheckConstraint(condition=Q(balance__gte=0), name="balance_not_negative"),
        ]

    def __str__(self) -> str:
        return self.card_number


class PointsEntry(models.Model):
    """One line of the append-only points ledger; the balance is the sum of ``points``."""

    class Kind(models.TextChoices):
        EARN = "earn", _("earned")
        REDEEM = "redeem", _("redeemed")
        EXPIRE = "expire", pgettext_lazy("loyalty", "expired")
        ADJUST = "adjust", _("adjusted")
        REVERSE = "reverse", pgettext_lazy("loyalty", "reversed")

    # No index of its own: the two indexes led by account (below) serve every lookup.
    account = models.ForeignKey(
        LoyaltyAccount, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    points = models.IntegerField(_("points"))
    created_at = models.DateTimeField(_("booked"), db_index=True)
    idempotency_key = models.CharField(max_length=120, null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # The cause: an order, a ticket (the service app's id), a campaign, an agent.
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ticket_id = models.BigIntegerField(null=True, blank=True)
    campaign = models.CharField(max_length=100, blank=True)
    # No database constraint: every till booking by one cashier would share-lock the same
    # user row, and fifty at once turn that into a MultiXact per booking (measured: docs/
    # loyalty.md, "Throughput"). Django still sets it to NULL when the user is deleted.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    # The balance right after this entry: a replay answers with it, as the first time.
    balance_after = models.IntegerField(default=0)
    # Points a return could not take back because they were already spent (see docs).
    shortfall = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(
        _("euro value"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        indexes = [models.Index(fields=["account", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"], name="points_entry_idempotency_per_account"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="earn", points__gt=0)
                    | Q(kind="redeem", points__lt=0)
                    | Q(kind="expire", points__lt=0)
                    | (Q(kind="adjust") & ~Q(points=0))
                    # A return whose points were all spent books 0 and its shortfall.
                    | Q(kind="reverse", points__lt=0)
                    | Q(kind="reverse", points=0, shortfall__gt=0)
                ),
                name="points_entry_sign_by_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d}"


class PointsLot(models.Model):
    """Points earned together, with what is left of them and when they expire."""

    account = models.ForeignKey(LoyaltyAccount, on_delete=models.PROTECT, related_name="lots")
    entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, related_name="lot")
    earned_at = models.DateTimeField()
    points = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()
    expires_on = models.DateField(null=True, blank=True)

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["earned_at", "id"]
        # Bookings look only at open lots: oldest first (redeem) and past their date (expiry).
        # Partial, so a member's years of used-up lots are never scanned on a booking.
        indexes = [
            models.Index(
                fields=["account", "earned_at", "id"],
                condition=Q(remaining__gt=0),
                name="lot_open_oldest_first",
            ),
            models.Index(
                fields=["account", "expires_on"],
                condition=Q(remaining__gt=0),
                name="lot_open_by_expiry",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("points")),
                name="lot_remaining_within_points",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.points} until {self.expires_on}"


class VoucherBatch(models.Model):
    """Many unique codes with the same terms (e.g. for a campaign)."""

    name = models.CharField(_("name"), max_length=100)
    count = models.PositiveIntegerField(_("number of codes"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign = models.CharField(max_length=100, blank=True)

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("voucher batch")
        verbose_name_plural = _("voucher batches")

    def __str__(self) -> str:
        return self.name


class Voucher(models.Model):
    """A code worth an amount or a percentage off an order."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("amount (EUR)")
        PERCENT = "percent", _("percent")

    code = models.CharField(_("code"), max_length=32, unique=True)
    batch = models.ForeignKey(
        VoucherBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="vouchers"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    value = models.DecimalField(_("value"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    min_order = models.DecimalField(
        _("minimum order"), max_digits=10, decimal_places=2, default=Decimal("0")
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(_("maximum uses"), default=1)
    per_customer_limit = models.PositiveIntegerField(_("uses per customer"), null=True, blank=True)
    uses = models.PositiveIntegerField(_("uses"), default=0)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="vouchers",
        help_text=_("Only this customer may use it."),
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Natural key of what issued it (e.g. ``goodwill:<grant id>``): issuing twice gives one.
    issue_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="voucher_value_positive"),
            models.CheckConstraint(
                condition=~Q(kind="percent") | Q(value__lte=100), name="voucher_percent_max_100"
            ),
            models.CheckConstraint(
                condition=Q(uses__lte=F("max_uses")), name="voucher_uses_within_max"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class VoucherRedemption(models.Model):
    """One use of a voucher on an order; the idempotency key makes a retry book once."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order_total = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2)
    idempotency_key = models.CharField(max_length=120, unique=True)
    reference = models.CharField(_("order reference"), max_length=100, blank=True)
    created_at = models.DateTimeField()

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.voucher_id}: {self.discount}"


class CheckoutBooking(models.Model):
    """A booked checkout quote: each quote books once, whatever idempotency key comes with it.

    ``quote_id`` is the random id inside the signed quote; its unique constraint is
    the backstop for the account row lock that serialises commits. The stored
    figures are what a replay with the same key answers.
    """

    quote_id = models.CharField(max_length=32, unique=True)
    account = models.ForeignKey(LoyaltyAccount, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=120)
    points = models.PositiveIntegerField(default=0)
    points_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    voucher_discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    balance_after = models.IntegerField(default=0)
    reference = models.CharField(_("order reference"), max_length=100, blank=True)
    created_at = models.DateTimeField()

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("booked checkout")
        verbose_name_plural = _("booked checkouts")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"], name="checkout_idempotency_per_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.quote_id}"


class StampCardDefinition(models.Model):
    """n stamps for services (products marked as service) earn a growing reward."""

    program = models.ForeignKey(
        LoyaltyProgram, on_delete=models.CASCADE, related_name="stamp_cards"
    )
    name = models.CharField(_("name"), max_length=100)
    stamps_required = models.PositiveSmallIntegerField(_("stamps per card"), default=10)
    reward_points = models.PositiveIntegerField(_("reward points for the first card"), default=500)
    reward_growth_points = models.PositiveIntegerField(
        _("extra reward points per card already completed"), default=100
    )
    reward_cap_points = models.PositiveIntegerField(_("highest reward"), default=2000)

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("stamp card")
        verbose_name_plural = _("stamp cards")
        constraints = [
            models.CheckConstraint(
                condition=Q(stamps_required__gte=1), name="stamp_card_needs_stamps"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StampCard(models.Model):
    """An account's progress on a stamp card definition."""

    account = models.ForeignKey(
        LoyaltyAccount, on_delete=models.PROTECT, related_name="stamp_cards"
    )
    definition = models.ForeignKey(
        StampCardDefinition, on_delete=models.PROTECT, related_name="cards"
    )
    stamps = models.PositiveSmallIntegerField(default=0)
    completed = models.PositiveIntegerField(_("completed cards"), default=0)

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "definition"], name="one_stamp_card_per_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stamps} stamps"


class Referral(models.Model):
    """A customer brought in by another; both are rewarded after the first paid order."""

    referrer = models.ForeignKey(
        LoyaltyAccount, on_delete=models.PROTECT, related_name="referrals_made"
    )
    referee = models.OneToOneField(
        LoyaltyAccount, on_delete=models.PROTECT, related_name="referred_by"
    )
    created_at = models.DateTimeField()
    rewarded_at = models.DateTimeField(null=True, blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(referrer=F("referee")), name="referral_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} -> {self.referee_id}"


class TierPrice(models.Model):
    """A loyalty price for a product in one tier (the tier price list)."""

    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="prices")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    price = models.DecimalField(_("price (EUR)"), max_digits=12, decimal_places=2)

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("tier price")
        verbose_name_plural = _("tier price list")
        constraints = [
            models.UniqueConstraint(fields=["tier", "product"], name="one_price_per_tier"),
            models.CheckConstraint(condition=Q(price__gte=0), name="tier_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.price}"
