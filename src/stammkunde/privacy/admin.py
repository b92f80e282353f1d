"""Django admin for privacy requests, exports and retention periods (all read-only here).

Erased contacts' hashes are kept by customers (``customers.admin``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import PrivacyExport, PrivacyRequest, RetentionPeriod


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(admin.ModelAdmin):
    """Read-only: requests change through the privacy pages (services), never here."""

    list_display = ("number", "kind", "status", "received_on", "due_on", "handler")
    list_filter = ("kind", "status")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(PrivacyExport)
class PrivacyExportAdmin(admin.ModelAdmin):
    list_display = ("id", "customer", "status", "progress", "created_at", "expires_at")
    exclude = ("json_path", "pdf_path")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(RetentionPeriod)
class RetentionPeriodAdmin(admin.ModelAdmin):
    """Read-only here: periods are set at /privacy/retention/ (validated and audited)."""

    list_display = ("kind", "days", "updated_at")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
