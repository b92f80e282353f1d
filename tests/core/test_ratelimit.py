"""Rate limits live in the shared store (the database here), per address and per account."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.core.cache.backends import locmem
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from stammkunde.core.cache import DatabaseCache
from stammkunde.core.models import CacheEntry
from stammkunde.core.ratelimit import client_address, rate_limited
from stammkunde.service.models import Queue

pytestmark = pytest.mark.django_db

CONTACT = {
    "type": "question",
    "name": "Erika Muster",
    "email": "erika@example.de",
    "order_number": "",
    "subject": "Frage",
    "message": "Wann liefern Sie?",
    "website": "",
}


def _request(ip: str = "203.0.113.7") -> Any:
    return RequestFactory().post("/", REMOTE_ADDR=ip)


def _forget_process_state() -> None:
    """What a restart or another worker has: no cache objects, no process memory."""
    locmem._caches.clear()
    locmem._expire_info.clear()
    locmem._locks.clear()
    del caches["shared"]


def test_the_shared_cache_is_the_database_in_the_embedded_set_up() -> None:
    assert isinstance(caches["shared"], DatabaseCache)
    assert "stammkunde_cache" in connection.introspection.table_names()


def test_a_limit_reached_holds_after_the_process_forgets_everything() -> None:
    # given: the contact scope allows 5 per address in 10 minutes
    for _ in range(5):
        assert not rate_limited(_request(), "contact")
    # when
    _forget_process_state()
    # then: a new cache object (a restart, another worker) still sees the count
    assert rate_limited(_request(), "contact")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM stammkunde_cache")
        assert cursor.fetchone()[0] >= 1


def test_two_cache_instances_share_the_count() -> None:
    first = caches.create_connection("shared")
    second = caches.create_connection("shared")
    first.add("n", 0, 60)
    first.incr("n")
    second.incr("n")
    assert first.get("n") == second.get("n") == 2


def test_incr_keeps_the_window_of_the_entry() -> None:
    shared = caches["shared"]
    shared.add("window", 0, 3600)
    shared.incr("window")
    entry = CacheEntry.objects.get()
    # Django's own incr writes the default timeout (5 minutes) back: the window would shrink.
    assert entry.expires > timezone.now() + timedelta(minutes=50)
    assert shared.get("window") == 1


def test_incr_of_a_missing_key_raises_like_django() -> None:
    with pytest.raises(ValueError):
        caches["shared"].incr("missing")


def test_the_limit_is_per_address() -> None:
    for _ in range(5):
        rate_limited(_request("203.0.113.7"), "contact")
    assert rate_limited(_request("203.0.113.7"), "contact")
    assert not rate_limited(_request("198.51.100.1"), "contact")


def test_the_limit_is_per_account_across_addresses() -> None:
    # given: 5 per sender address, each try from another address
    for i in range(5):
        assert not rate_limited(_request(f"198.51.100.{i}"), "contact", account="erika@example.de")
    # then: the sixth try for the account is refused from a fresh address, others are not
    assert rate_limited(_request("192.0.2.50"), "contact", account="Erika@Example.de ")
    assert not rate_limited(_request("192.0.2.51"), "contact", account="max@example.de")


def test_ipv6_addresses_of_one_line_count_as_one() -> None:
    first = RequestFactory().post("/", REMOTE_ADDR="2001:db8:1:2::1")
    second = RequestFactory().post("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    assert client_address(first) == client_address(second) == "2001:db8:1:2::"
    assert client_address(RequestFactory().post("/", REMOTE_ADDR="")) == "unknown"


def test_an_unknown_scope_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="RATE_LIMITS"):
        rate_limited(_request(), "nope")


def test_the_contact_form_limit_holds_after_a_restart(client) -> None:
    Queue.objects.create(name="Kundenservice")
    codes = [client.post(reverse("channels:contact"), CONTACT).status_code for _ in range(5)]
    _forget_process_state()
    limited = client.post(reverse("channels:contact"), CONTACT)
    assert codes == [200] * 5
    assert limited.status_code == 429
    assert "Zu viele Anfragen" in limited.content.decode()


def test_concurrent_hits_are_all_counted(transactional_db) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("threads need a database file or PostgreSQL")
    shared = caches["shared"]
    shared.add("race", 0, 60)

    def hit() -> None:
        try:
            for _ in range(10):
                caches["shared"].incr("race")
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert shared.get("race") == 40


def test_the_decorator_answers_429_with_the_german_message(settings) -> None:
    from django.http import HttpResponse
    from django.utils import translation

    from stammkunde.core.ratelimit import ratelimit

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "helpcenter_search": {"ip": "2/m"}}

    @ratelimit("helpcenter_search", methods=("GET",))
    def search(request):
        return HttpResponse("results")

    def ask() -> Any:
        request = RequestFactory().get("/help/?q=kette", REMOTE_ADDR="203.0.113.9")
        request.user = AnonymousUser()
        return search(request)

    with translation.override("de"):
        answers = [ask() for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Zu viele Anfragen" in answers[-1].content.decode()
    assert answers[-1]["Retry-After"]
