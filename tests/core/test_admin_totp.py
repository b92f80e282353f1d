"""The TOTP device admin: an unknown device is a 404, a secret is shown to its own user only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

EXTRA_VIEWS = ("admin:otp_totp_totpdevice_config", "admin:otp_totp_totpdevice_qrcode")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", EXTRA_VIEWS)
def test_an_unknown_device_is_not_found(admin: Any, name: str) -> None:
    answer = _client(admin).get(reverse(name, kwargs={"pk": 987654}))
    assert answer.status_code == 404


@pytest.mark.parametrize("name", EXTRA_VIEWS)
def test_an_admin_sees_the_secret_of_an_own_device(admin: Any, name: str) -> None:
    device = TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=False)
    answer = _client(admin).get(reverse(name, kwargs={"pk": device.pk}))
    assert answer.status_code == 200
    if name.endswith("config"):
        assert device.config_url.split("secret=")[1].split("&")[0] in answer.content.decode()


@pytest.mark.parametrize("name", EXTRA_VIEWS)
def test_an_admin_cannot_read_another_users_secret(
    admin: Any, make_user: Callable[..., Any], name: str
) -> None:
    other = make_user("admin")
    device = TOTPDevice.objects.create(user=other, name="authenticator", confirmed=False)
    answer = _client(admin).get(reverse(name, kwargs={"pk": device.pk}))
    assert answer.status_code == 403
    assert device.bin_key.hex() not in answer.content.decode()
