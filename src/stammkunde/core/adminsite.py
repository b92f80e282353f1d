"""The admin app with the project's site (``core.twofactor.AdminSite``), for INSTALLED_APPS.

Kept apart so that nothing here loads models while the app registry is filled; the
one admin that is changed here is swapped in ``ready()``, when the registry is full.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "stammkunde.core.twofactor.AdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscover: django-otp registers its TOTPDevice admin here
        _replace_totp_admin()


def _replace_totp_admin() -> None:
    """Register django-otp's TOTP device admin with its two extra views made safe.

    django-otp's ``config_view`` and ``qrcode_view`` look the device up with ``get()``,
    so an unknown id answers 500; they also show any user's secret to every admin, who
    could then copy another admin's second factor. Here an unknown id is a 404 and a
    secret is shown only to the device's own user (as on the set-up page).
    """
    from django.apps import apps
    from django.contrib import admin

    if not apps.is_installed("django_otp.plugins.otp_totp"):
        return
    from django.core.exceptions import PermissionDenied
    from django.http import HttpRequest, HttpResponse
    from django.shortcuts import get_object_or_404
    from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
    from django_otp.plugins.otp_totp.models import TOTPDevice

    class OwnSecretTOTPDeviceAdmin(TOTPDeviceAdmin):
        def _own_device(self, request: HttpRequest, pk: int) -> Any:
            device = get_object_or_404(TOTPDevice, pk=pk)
            if device.user_id != request.user.pk:
                raise PermissionDenied
            return device

        def config_view(self, request: HttpRequest, pk: int) -> HttpResponse:
            self._own_device(request, pk)
            return super().config_view(request, pk)  # type: ignore[no-any-return]

        def qrcode_view(self, request: HttpRequest, pk: int) -> HttpResponse:
            self._own_device(request, pk)
            return super().qrcode_view(request, pk)  # type: ignore[no-any-return]

    if admin.site.is_registered(TOTPDevice):
        admin.site.unregister(TOTPDevice)
    admin.site.register(TOTPDevice, OwnSecretTOTPDeviceAdmin)
