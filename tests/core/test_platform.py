from __future__ import annotations

import subprocess
import sys

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_is_locked_after_five_failures(make_user, client) -> None:
    user = make_user("agent")
    for _ in range(5):
        client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": user.username, "password": "pw-Stammkunde-1"}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_correct_login_signs_in(make_user, client) -> None:
    user = make_user("agent")
    response = client.post(
        reverse("login"), {"username": user.username, "password": "pw-Stammkunde-1"}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_roles_exist_after_migrate() -> None:
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {
        "admin",
        "team_lead",
        "agent",
        "partner_agent",
        "marketing",
        "analyst",
    }
    assert Group.objects.get(name="agent").permissions.filter(codename="change_customer").exists()
    assert (
        not Group.objects.get(name="analyst")
        .permissions.filter(codename="change_customer")
        .exists()
    )


def test_cli_help_lists_the_project_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "stammkunde.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "demo" in out and "migrate" in out


def test_cli_refuses_bad_demo_input_with_a_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stammkunde.cli", "demo", "--customers", "0"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "--customers" in result.stderr


def test_password_change_page_needs_login(client) -> None:
    assert client.get(reverse("password_change")).status_code == 302
