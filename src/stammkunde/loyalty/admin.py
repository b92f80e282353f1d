"""Django admin for loyalty.

Programs and their multipliers, stamp cards and tier prices are configuration
and can be edited here; a program is saved with its inlines through
``services.program_configure`` (one transaction, audited). Tiers are shown
read-only: their rules (each threshold above the one beneath it, unique names,
audit per change) live in ``services.rules`` and are edited on the settings
page (``/loyalty/settings/``) or the program page (``/loyalty/programs/``).
Balances, the points ledger, vouchers and everything else the services write
are shown read-only too: a correction is a booking (``points_adjust``), never
an edit of a row.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from . import services
from .models import (
    CategoryMultiplier,
    CheckoutBooking,
    LoyaltyAccount,
    LoyaltyProgram,
    PointsEntry,
    PointsLot,
    Referral,
    StampCard,
    StampCardDefinition,
    Tier,
    TierPrice,
    Voucher,
    VoucherBatch,
    VoucherRedemption,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows the services write; adding, changing and deleting go through services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TierInline(admin.TabularInline):
    """Tiers are read-only here: they are saved through ``services.rules`` (see above)."""

    model = Tier
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CategoryMultiplierInline(admin.TabularInline):
    model = CategoryMultiplier
    extra = 0
    raw_id_fields = ["category"]


class StampCardInline(admin.TabularInline):
    model = StampCardDefinition
    extra = 0


@admin.register(LoyaltyProgram)
class LoyaltyProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "points_per_euro", "point_value", "expiry_years"]
    list_filter = ["active"]
    search_fields = ["name"]
    inlines = [TierInline, CategoryMultiplierInline, StampCardInline]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Saved in ``save_related``, together with the inlines, by the service."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The tier inline is read-only: it changes nothing, so it is not passed on.
        editable = [f for f in formsets if f.model is not Tier]
        for formset in formsets:
            if formset.model is Tier:  # for the admin's change message
                formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        services.program_configure(actor=request.user, program_form=form, formsets=editable)


@admin.register(Tier)
class TierAdmin(ReadOnlyAdmin):
    list_display = ["name", "program", "rank", "threshold", "points_multiplier"]
    list_filter = ["program"]
    list_select_related = ["program"]
    ordering = ["program", "rank"]


@admin.register(CategoryMultiplier)
class CategoryMultiplierAdmin(admin.ModelAdmin):
    list_display = ["program", "category", "multiplier"]
    list_filter = ["program"]
    list_select_related = ["program", "category"]
    raw_id_fields = ["category"]


@admin.register(StampCardDefinition)
class StampCardDefinitionAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "stamps_required", "reward_points", "reward_cap_points"]
    list_filter = ["program"]
    list_select_related = ["program"]


@admin.register(TierPrice)
class TierPriceAdmin(admin.ModelAdmin):
    list_display = ["tier", "product", "price"]
    list_filter = ["tier"]
    list_select_related = ["tier", "product"]
    raw_id_fields = ["product"]


@admin.register(LoyaltyAccount)
class LoyaltyAccountAdmin(ReadOnlyAdmin):
    list_display = ["card_number", "customer", "program", "tier", "balance", "enrolled_at"]
    list_filter = ["program", "tier"]
    list_select_related = ["customer", "program", "tier"]
    search_fields = [
        "card_number",
        "referral_code",
        "customer__number",
        "customer__search_name",
        "customer__emails__address",
    ]


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "points", "balance_after", "reason", "agent"]
    list_filter = ["kind"]
    list_select_related = ["account", "agent"]
    search_fields = ["account__card_number", "idempotency_key"]
    date_hierarchy = "created_at"


@admin.register(PointsLot)
class PointsLotAdmin(ReadOnlyAdmin):
    list_display = ["account", "earned_at", "points", "remaining", "expires_on"]
    list_select_related = ["account"]
    search_fields = ["account__card_number"]


@admin.register(VoucherBatch)
class VoucherBatchAdmin(ReadOnlyAdmin):
    list_display = ["name", "count", "campaign", "created_at"]
    search_fields = ["name", "campaign"]


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "value", "uses", "max_uses", "valid_until", "customer"]
    list_filter = ["kind"]
    list_select_related = ["customer"]
    search_fields = ["code", "customer__number"]


@admin.register(VoucherRedemption)
class VoucherRedemptionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "voucher", "customer", "order_total", "discount", "reference"]
    list_select_related = ["voucher", "customer"]
    search_fields = ["voucher__code", "reference"]


@admin.register(CheckoutBooking)
class CheckoutBookingAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "points", "voucher_discount", "reference"]
    list_select_related = ["account"]
    search_fields = ["account__card_number", "reference"]


@admin.register(StampCard)
class StampCardAdmin(ReadOnlyAdmin):
    list_display = ["account", "definition", "stamps", "completed"]
    list_select_related = ["account", "definition"]
    search_fields = ["account__card_number"]


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["referrer", "referee", "created_at", "rewarded_at"]
    list_select_related = ["referrer", "referee"]
    search_fields = ["referrer__card_number", "referee__card_number"]
