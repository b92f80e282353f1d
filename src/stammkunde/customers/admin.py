"""Django admin for customers: find a customer by number, name or e-mail, and look.

Customers, their contact data, consents and timeline are written through
``customers.services`` only (numbering, normalised e-mail and phone, the
search name, the audit entry, the erasure rules), so the admin shows them
read-only; changes are made on the customer pages. Tags are plain labels and
can be edited here. An erased contact's hash may be removed when the person
signs up again.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import (
    Address,
    Consent,
    ContactPerson,
    Customer,
    EmailAddress,
    Interaction,
    PhoneNumber,
    SuppressedContact,
    Tag,
)


class ReadOnlyAdminMixin:
    """Show, never add, change or delete: a service owns these rows."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EmailInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EmailAddress
    extra = 0
    fields = ["address", "is_primary", "undeliverable_at"]


class PhoneInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PhoneNumber
    extra = 0
    fields = ["number", "kind", "is_primary"]


class AddressInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Address
    extra = 0
    fields = ["kind", "street", "postal_code", "city", "country"]


class ContactPersonInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ContactPerson
    extra = 0
    fields = ["name", "role", "email", "phone"]


class ConsentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Consent
    extra = 0
    fields = ["purpose", "channel", "status", "source", "at"]


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "name", "kind", "value_class", "created_at", "erased_at"]
    list_filter = ["kind", "value_class"]
    # ``=number`` finds one customer exactly; names and e-mails match in part.
    search_fields = [
        "=number",
        "first_name",
        "last_name",
        "company_name",
        "search_name",
        "emails__address",
    ]
    search_help_text = _("Customer number, name, company or e-mail address.")
    exclude = ["search_name"]
    inlines = [EmailInline, PhoneInline, AddressInline, ContactPersonInline, ConsentInline]
    show_full_result_count = False  # no COUNT(*) over every customer on each search
    date_hierarchy = "created_at"

    @admin.display(description=_("name"), ordering="last_name")
    def name(self, obj: Customer) -> str:
        return str(obj)


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["occurred_at", "customer", "channel", "direction", "kind", "summary"]
    list_filter = ["channel", "direction"]
    list_select_related = ["customer"]
    search_fields = ["=customer__number", "customer__search_name", "summary"]
    search_help_text = _("Customer number or name, or words of the summary.")
    raw_id_fields = ["customer", "actor"]
    show_full_result_count = False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(SuppressedContact)
class SuppressedContactAdmin(admin.ModelAdmin):
    """Hashes of erased addresses: an admin may remove one when the person signs up again."""

    list_display = ["kind", "digest", "created_at"]
    search_fields = ["digest"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
