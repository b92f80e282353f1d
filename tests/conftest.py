"""Test helpers shared by every app: users with roles, API clients, the browser.

In CI (``CI=true``) a missing browser or service fails the run instead of
skipping the test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from stammkunde.core.models import ServicePartner
from stammkunde.core.services import user_create

IN_CI = os.environ.get("CI", "").lower() == "true"

# Background jobs run in the caller during tests: a runner thread would not see the
# test's transaction (tests/core/jobs run real threads and workers where they mean to).
settings.JOBS_INLINE = True
CHROMIUM = "/usr/bin/chromium"


def require(condition: bool, reason: str) -> None:
    """Skip locally but fail in CI when a real peer (browser, service) is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI needs this: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _stray_connections_closed(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """At the end of the run, close what threads left open, so the test database can go.

    A live server's or a background job's thread may keep its connection until
    the process ends; PostgreSQL refuses to drop a database that is in use.
    """
    yield
    with django_db_blocker.unblock():
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """A test database of this run's own on a shared PostgreSQL (``test_<name>_<pid>``).

    Two runs on one server (a developer's and a CI run, or two checkouts) would
    otherwise both create ``test_<name>`` and drop it under each other.
    """
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        database.setdefault("TEST", {})["NAME"] = f"test_{database['NAME']}_{os.getpid()}"


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    counter = {"n": 0}

    def _make(*roles: str, partner: ServicePartner | None = None, **extra: Any) -> Any:
        counter["n"] += 1
        return user_create(
            username=f"{'_'.join(roles) or 'norole'}{counter['n']}",
            password="pw-Stammkunde-1",
            roles=list(roles),
            partner=partner,
            **extra,
        )

    return _make


@pytest.fixture
def admin(make_user: Callable[..., Any]) -> Any:
    return make_user("admin")


@pytest.fixture
def agent(make_user: Callable[..., Any]) -> Any:
    return make_user("agent")


@pytest.fixture
def partner(db: Any) -> ServicePartner:
    return ServicePartner.objects.create(name="CallPro GmbH")


@pytest.fixture
def partner_agent(make_user: Callable[..., Any], partner: ServicePartner) -> Any:
    return make_user("partner_agent", partner=partner)


@pytest.fixture
def no_role_user(make_user: Callable[..., Any]) -> Any:
    return make_user()


@pytest.fixture
def api_as() -> Callable[[Any], APIClient]:
    def _client(user: Any) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _client


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Debian chromium driven by Playwright."""
    require(
        shutil.which("chromium") is not None or os.path.exists(CHROMIUM),
        "Debian chromium is not installed (apt-get install chromium)",
    )
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs a loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def insecure_cookies(settings: Any) -> None:
    """The live test server speaks plain HTTP."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
