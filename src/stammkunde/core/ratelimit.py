"""Rate limits per address and per account, counted in the shared cache.

Each scope (``settings.RATE_LIMITS``: login, password reset, contact form,
booking, help-center search) has a rate per client address and, where the
request names one, per account (login name or e-mail address). The counting is
``django-ratelimit``'s (fixed windows with a per-key offset); the store is the
``shared`` cache: the database in the embedded set-up, Redis when
``REDIS_URL`` is set. Both hold across workers and restarts, unlike the memory
of one process.

Use in a view, before the work::

    if rate_limited(request, "booking", account=form.data.get("email", "")):
        return too_many_requests(request)  # or form.add_error(None, LIMIT_MESSAGE)

or as a decorator: ``@ratelimit("helpcenter_search")``.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import get_usage

LIMIT_MESSAGE = _("Too many requests. Please try again in a few minutes.")
IPV6_PREFIX = 64  # one customer line gets a whole /64: count it as one address


def client_address(request: HttpRequest) -> str:
    """The address a request came from (``REMOTE_ADDR``; IPv6 reduced to its /64)."""
    raw = request.META.get("REMOTE_ADDR", "") or ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False).network_address)
    return str(address)


def _rates(scope: str) -> dict[str, str]:
    try:
        return dict(settings.RATE_LIMITS[scope])
    except KeyError as exc:
        raise KeyError(f"No rate limit for scope {scope!r} in settings.RATE_LIMITS") from exc


def _hit(request: HttpRequest, *, scope: str, kind: str, value: str, rate: str) -> bool:
    usage = get_usage(
        request,
        group=f"{scope}:{kind}",
        key=lambda _group, _request: value,
        rate=rate,
        increment=True,
    )
    return bool(usage and usage["should_limit"])


def rate_limited(request: HttpRequest, scope: str, *, account: str = "") -> bool:
    """Count one attempt of ``scope``; True when its address or its account is over the limit.

    Both counters advance on every call, so an address that spreads its tries over
    many accounts, and an account tried from many addresses, are stopped alike.
    ``account`` is compared case-insensitively; empty means the request names none.
    """
    rates = _rates(scope)
    limited = False
    if "ip" in rates:
        address = client_address(request)
        limited |= _hit(request, scope=scope, kind="ip", value=address, rate=rates["ip"])
    account = account.strip().casefold()
    if account and "account" in rates:
        limited |= _hit(request, scope=scope, kind="account", value=account, rate=rates["account"])
    return limited


def too_many_requests(
    request: HttpRequest, template: str = "ratelimited.html", context: dict[str, Any] | None = None
) -> HttpResponse:
    """The 429 answer: a page with the message (and the caller's context, e.g. its form)."""
    response = render(request, template, {"error": LIMIT_MESSAGE, **(context or {})}, status=429)
    response["Retry-After"] = "600"
    return response


def ratelimit(
    scope: str, *, account_field: str = "", methods: tuple[str, ...] = ("POST",)
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a view: requests with ``methods`` over the limit of ``scope`` get a 429 page.

    ``account_field`` names the GET/POST field that holds the account (e.g. ``"email"``).
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods:
                data = request.POST if request.method == "POST" else request.GET
                account = str(data.get(account_field, "")) if account_field else ""
                if rate_limited(request, scope, account=account):
                    return too_many_requests(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
