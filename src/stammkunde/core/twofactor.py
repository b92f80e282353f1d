"""Optional TOTP (an authenticator app's six-digit code) as the second step of the login.

A user with a confirmed TOTP device (``django_otp.plugins.otp_totp``) logs in
with password and code; ``OTPMiddleware`` marks the session verified. The admin
site asks for that verification from every user who has a device, so that a
session that skipped the code (e.g. one opened before the device was set up)
does not reach it.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import segno
from django.apps import apps
from django.contrib.admin import AdminSite as DjangoAdminSite
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from .roles import ADMIN, has_role

DEVICE_NAME = "authenticator"


def may_use_totp(user: Any) -> bool:
    """Admins may set up a second factor (the accounts with the most reach)."""
    return bool(user.is_authenticated and (user.is_superuser or has_role(user, ADMIN)))


def confirmed_device(user: Any) -> Any | None:
    """The user's confirmed TOTP device, or None."""
    if not apps.is_installed("django_otp.plugins.otp_totp"):
        return None
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user: Any) -> Any:
    """The device being set up (not confirmed yet); made with a new secret if none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def device_secret(device: Any) -> str:
    """The secret as an authenticator app takes it by hand (base32, groups of four)."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def device_qr_svg(device: Any) -> str:
    """The ``otpauth://`` address as an inline SVG QR code (no external request, no script)."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=4, border=2))


@transaction.atomic
def device_confirm(*, device: Any, code: str) -> bool:
    """Confirm a device with its first code; other devices of the user are removed."""
    if not device.verify_token(code.strip()):
        return False
    type(device).objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


@transaction.atomic
def device_remove(*, user: Any, code: str) -> bool:
    """Remove the user's second factor; asks for a current code so a stolen session cannot."""
    device = confirmed_device(user)
    if device is None or not device.verify_token(code.strip()):
        return False
    type(device).objects.filter(user=user).delete()
    return True


def needs_verification(request: HttpRequest) -> bool:
    """True when the user has a second factor that this session has not been verified with."""
    user = request.user
    verified = getattr(user, "is_verified", None)
    if not user.is_authenticated or (verified is not None and verified()):
        return False
    return confirmed_device(user) is not None


class AdminSite(DjangoAdminSite):
    """Django's admin behind the project's login (with its code step) and the code check."""

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not needs_verification(request)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # The admin's own login form would skip the code step: use the project's login.
        return redirect_to_login(
            request.GET.get("next", reverse("admin:index")), login_url=reverse("login")
        )
