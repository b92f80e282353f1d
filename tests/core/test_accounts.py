"""Login, password reset by mail, password strength and the optional TOTP step for admins."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from stammkunde.core.errors import ApplicationError
from stammkunde.core.services import demo_admin_ensure, password_set, user_create

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Stammkunde-1"
NEW_PASSWORD = "Fahrradkette-im-Herbst-42"


@pytest.fixture(autouse=True)
def _locmem_mail(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _german() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="de")


def _login(client: Client, username: str, password: str, ip: str = "203.0.113.7") -> Any:
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


# --------------------------------------------------------------------------- password reset
def test_the_login_page_links_to_the_password_reset() -> None:
    page = _german().get(reverse("login")).content.decode()
    assert "Passwort vergessen?" in page
    assert reverse("password_reset") in page


def test_a_password_reset_walks_from_the_mail_to_a_login_with_the_new_password(
    make_user: Any,
) -> None:
    # given
    user = make_user("agent", email="anna@shop.example")
    client = _german()
    # when: ask for the link
    asked = client.post(reverse("password_reset"), {"email": "ANNA@shop.example"})
    # then: one German mail with a link
    assert asked.status_code == 302 and asked["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anna@shop.example"]
    assert "neues Passwort" in message.subject
    link = re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)
    # when: open it and set a new password
    form = client.get(link, follow=True)
    assert form.status_code == 200 and b'name="new_password1"' in form.content
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    # then
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert _login(Client(), user.username, NEW_PASSWORD)["Location"] == reverse("home")
    # and the link is used up
    again = client.get(link, follow=True)
    assert b'name="new_password1"' not in again.content


def test_an_unknown_address_gets_the_same_answer_and_no_mail(make_user: Any) -> None:
    make_user("agent", email="anna@shop.example")
    known = _german().post(reverse("password_reset"), {"email": "anna@shop.example"})
    unknown = _german().post(reverse("password_reset"), {"email": "nobody@shop.example"})
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert [m.to for m in mail.outbox] == [["anna@shop.example"]]


def test_the_new_password_must_be_strong(make_user: Any) -> None:
    user = make_user("agent", email="anna@shop.example")
    client = _german()
    client.post(reverse("password_reset"), {"email": "anna@shop.example"})
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    answer = client.post(form_url, {"new_password1": "kurz123", "new_password2": "kurz123"})
    assert answer.status_code == 200
    assert "mindestens 12 Zeichen" in answer.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_reset_is_limited_per_account(make_user: Any) -> None:
    make_user("agent", email="anna@shop.example")
    codes = [
        _german()
        .post(reverse("password_reset"), {"email": "anna@shop.example"}, REMOTE_ADDR=f"10.0.0.{i}")
        .status_code
        for i in range(4)
    ]
    assert codes == [302, 302, 302, 429]
    assert len(mail.outbox) == 3


def test_password_reset_is_limited_per_address(make_user: Any) -> None:
    answers = [
        _german().post(reverse("password_reset"), {"email": f"user{i}@shop.example"})
        for i in range(11)
    ]
    assert [a.status_code for a in answers] == [302] * 10 + [429]
    assert "Zu viele Anfragen" in answers[-1].content.decode()


# --------------------------------------------------------------------------- login limit
def test_login_is_limited_per_account_across_addresses(make_user: Any) -> None:
    user = make_user("agent")
    for i in range(10):
        _login(Client(), user.username, f"falsch-{i}", ip=f"198.51.100.{i}")
    # The right password from a fresh address is refused too, before it is checked.
    limited = _login(_german(), user.username, PASSWORD, ip="192.0.2.99")
    assert limited.status_code == 429
    assert "Zu viele Anfragen" in limited.content.decode()
    assert "_auth_user_id" not in limited.client.session


def test_login_is_limited_per_address_across_accounts() -> None:
    client = Client()
    codes = [_login(client, f"user{i}", "falsch-falsch").status_code for i in range(31)]
    assert codes[:30] == [200] * 30
    assert codes[30] == 429


def test_the_login_lockout_is_stored_in_the_database(make_user: Any) -> None:
    from axes.models import AccessAttempt

    user = make_user("agent")
    for _ in range(5):
        _login(Client(), user.username, "falsch-falsch")
    assert AccessAttempt.objects.get(username=user.username).failures_since_start == 5
    assert _login(Client(), user.username, PASSWORD).status_code == 429


# --------------------------------------------------------------------------- password strength
@pytest.mark.parametrize(
    "password",
    ["kurz-12", "password1234", "123456789012345", "anna.schmidt1"],
    ids=["short", "common", "digits", "like-the-name"],
)
def test_user_create_refuses_a_weak_password(db: Any, password: str) -> None:
    with pytest.raises(ApplicationError) as error:
        user_create(username="anna.schmidt", password=password, roles=["agent"], first_name="Anna")
    assert error.value.code == "password"
    assert error.value.field_errors["password"]
    assert not get_user_model().objects.filter(username="anna.schmidt").exists()


def test_password_set_checks_the_strength(make_user: Any) -> None:
    user = make_user("agent")
    with pytest.raises(ApplicationError):
        password_set(user=user, password="0000")
    password_set(user=user, password=NEW_PASSWORD)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_the_demo_admin_password_passes_the_rules(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    username, password = demo_admin_ensure()
    assert len(password) >= 12
    assert get_user_model().objects.get(username=username).check_password(password)


# --------------------------------------------------------------------------- TOTP
def _set_up_totp(client: Client, admin: Any) -> TOTPDevice:
    client.force_login(admin)
    page = client.get(reverse("two_factor"))
    assert page.status_code == 200
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    assert device.bin_key  # the secret shown is the device's
    answer = client.post(reverse("two_factor"), {"code": f"{totp(device.bin_key):06d}"})
    assert answer.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_an_admin_sets_up_totp_with_a_qr_code_and_a_first_code(admin: Any) -> None:
    client = _german()
    client.force_login(admin)
    wrong = client.post(reverse("two_factor"), {"code": "000000"})
    assert "nicht gültig" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=admin, confirmed=True).exists()
    TOTPDevice.objects.get(user=admin).throttle_reset()  # a failure makes the next try wait
    _set_up_totp(client, admin)


def test_with_totp_the_login_asks_for_the_code_as_a_second_step(admin: Any) -> None:
    device = _set_up_totp(Client(), admin)
    client = _german()
    # when: the password alone
    first = _login(client, admin.username, PASSWORD)
    # then: not logged in yet, asked for the code
    assert first["Location"] == reverse("login_code")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("customers:list"))["Location"].startswith(reverse("login"))
    wrong = client.post(reverse("login_code"), {"code": "000000"})
    assert "nicht gültig" in wrong.content.decode()
    # when: the code of the next 30 seconds (the set-up used the current one)
    device.refresh_from_db()
    device.throttle_reset()
    code = f"{totp(device.bin_key, drift=1):06d}"
    done = client.post(reverse("login_code"), {"code": code})
    # then
    assert done["Location"] == reverse("home")
    assert int(client.session["_auth_user_id"]) == admin.pk
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_totp_code_is_not_taken_twice(admin: Any) -> None:
    device = _set_up_totp(Client(), admin)
    client = Client()
    _login(client, admin.username, PASSWORD)
    used = f"{totp(device.bin_key):06d}"  # the set-up took this one
    assert "_auth_user_id" not in client.post(reverse("login_code"), {"code": used}).client.session


def test_the_admin_site_wants_the_code_from_a_user_with_a_device(admin: Any) -> None:
    _set_up_totp(Client(), admin)
    unverified = Client()
    unverified.force_login(admin)  # a session that skipped the code step
    answer = unverified.get(reverse("admin:index"), follow=True)
    assert answer.redirect_chain[-1][0].startswith(reverse("login"))
    assert b'name="password"' in answer.content


def test_the_admin_site_opens_for_an_admin_without_a_device(admin: Any) -> None:
    client = Client()
    client.force_login(admin)
    assert client.get(reverse("admin:index")).status_code == 200
    # The admin's own login form (it would skip the code step) sends to the project's login.
    assert Client().get(reverse("admin:login"))["Location"].startswith(reverse("login"))


def test_only_admins_set_up_totp(agent: Any) -> None:
    client = Client()
    client.force_login(agent)
    assert client.get(reverse("two_factor")).status_code == 403
    assert not TOTPDevice.objects.exists()


def test_the_code_step_needs_a_password_first() -> None:
    answer = Client().get(reverse("login_code"))
    assert answer["Location"] == reverse("login")


def test_switching_totp_off_asks_for_a_current_code(admin: Any) -> None:
    client = Client()
    device = _set_up_totp(client, admin)
    client.post(reverse("two_factor"), {"code": "000000"})
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    device.refresh_from_db()
    device.throttle_reset()
    client.post(reverse("two_factor"), {"code": f"{totp(device.bin_key, drift=1):06d}"})
    assert not TOTPDevice.objects.exists()
