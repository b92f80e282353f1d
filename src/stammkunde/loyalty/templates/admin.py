"""Django admin for loyalty configuration; the ledger is read-only here (services write it)."""

from django.contrib import admin

from .models import (
    CategoryMultiplier,
    LoyaltyAccount,
    LoyaltyProgram,
    PointsEntry,
    StampCardDefinition,
    Tier,
    TierPrice,
    Voucher,
    VoucherBatch,
)


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0


class CategoryMultiplierInline(admin.TabularInline):
    model = CategoryMultiplier
    extra = 0


class StampCardInline(admin.TabularInline):
    model = StampCardDefinition
    extra = 0


@admin.register(LoyaltyProgram)
class LoyaltyProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "points_per_euro", "point_value", "expiry_years"]
    inlines = [TierInline, CategoryMultiplierInline, StampCardInline]


@admin.register(TierPrice)
class TierPriceAdmin(admin.ModelAdmin):
    list_display = ["tier", "product", "price"]
    list_filter = ["tier"]
    raw_id_fields = ["product"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(LoyaltyAccount)
class LoyaltyAccountAdmin(ReadOnlyAdmin):
    list_display = ["card_number", "customer", "program", "tier", "balance"]
    search_fields = ["card_number", "customer__number"]


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "points", "reason", "agent"]
    list_filter = ["kind"]


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "value", "uses", "max_uses", "valid_until", "customer"]
    search_fields = ["code"]


@admin.register(VoucherBatch)
class VoucherBatchAdmin(ReadOnlyAdmin):
    list_display = ["name", "count", "created_at"]
