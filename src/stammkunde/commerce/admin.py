"""Django admin for commerce: find orders, returns and subscriptions; keep the catalogue.

Orders, returns and subscriptions are written through ``commerce.services``
(totals from the lines, loyalty points, the customer's first purchase, the
timeline and hooks), so the admin shows them read-only. Product categories
can be edited here; products are shown read-only because
``services.product_create`` validates SKU and price.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Order, OrderLine, Product, ProductCategory, Return, Subscription

CUSTOMER_SEARCH = [
    "=customer__number",
    "customer__first_name",
    "customer__last_name",
    "customer__company_name",
    "customer__emails__address",
]


class ReadOnlyAdminMixin:
    """Show, never add, change or delete: ``commerce.services`` owns these rows."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProductCategory)
class ProductCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent"]
    search_fields = ["name"]


@admin.register(Product)
class ProductAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sku", "name", "category", "price", "is_service", "active"]
    list_filter = ["active", "is_service", "category"]
    list_select_related = ["category"]
    search_fields = ["=sku", "name"]
    search_help_text = _("SKU or product name.")


class OrderLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ["product", "quantity", "unit_price", "line_total"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "customer", "ordered_at", "channel", "status", "total"]
    list_filter = ["status", "channel"]
    list_select_related = ["customer"]
    search_fields = ["=number", *CUSTOMER_SEARCH]
    search_help_text = _("Order number, or customer number, name or e-mail address.")
    inlines = [OrderLineInline]
    show_full_result_count = False
    date_hierarchy = "ordered_at"


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["order_line", "customer", "returned_at", "quantity", "reason", "refund"]
    list_filter = ["reason"]
    list_select_related = ["customer", "order_line__order", "order_line__product"]
    search_fields = ["=order_line__order__number", *CUSTOMER_SEARCH]
    search_help_text = _("Order number, or customer number, name or e-mail address.")
    show_full_result_count = False


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["plan", "customer", "monthly_amount", "started_at", "ends_at", "cancelled_at"]
    list_filter = ["plan"]
    list_select_related = ["customer"]
    search_fields = ["plan", *CUSTOMER_SEARCH]
    search_help_text = _("Plan, or customer number, name or e-mail address.")
    show_full_result_count = False
