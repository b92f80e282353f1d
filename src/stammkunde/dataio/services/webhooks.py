"""Outgoing webhooks: other apps call ``webhook_emit``; deliveries are signed and retried.

Signature: ``X-Stammkunde-Signature: sha256=<hex>`` is HMAC-SHA256 with the
subscription's secret over ``<timestamp>.<body>``, where ``<timestamp>`` is the
``X-Stammkunde-Timestamp`` header (Unix seconds). Receivers recompute it and
reject old timestamps (replays).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import queue
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User
from stammkunde.core.db import statement_run
from stammkunde.core.errors import ApplicationError
from stammkunde.core.roles import ADMIN, has_role

from ..models import WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

EVENTS = (
    "customer.created",
    "customer.merged",
    "order.imported",
    "return.imported",
    "ticket.created",
    "ticket.solved",
    "churn_risk.raised",
    "points.changed",
)
MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=30)
TIMEOUT_SECONDS = 10
LEASE = timedelta(minutes=5)

Payload = Mapping[str, Any] | Callable[[], Mapping[str, Any]]


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def backoff(attempts: int) -> timedelta:
    """Return the wait after ``attempts`` failed tries: 30 s, 1 min, 2 min, ... (doubling)."""
    return BASE_DELAY * (2 ** max(0, attempts - 1))


class TargetRefused(OSError):
    """The webhook's host resolves to an address that webhooks may not reach."""


def address_refused(address: str) -> bool:
    """True for loopback, private, link-local, multicast, reserved and other non-public IPs."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return not ip.is_global or ip.is_multicast or ip.is_reserved


def private_allowed(subscription: WebhookSubscription | None = None) -> bool:
    """An admin allowed private targets: for all (setting) or for this subscription."""
    if getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False):
        return True
    return bool(subscription is not None and subscription.allow_private_network)


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def target_error(url: str, *, allow_private: bool = False) -> str:
    """Why ``url`` may not receive webhooks ("" if it may): checked with the host's DNS now."""
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        return _("An http(s) URL is required.")
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = _resolve(parsed.hostname, port)
    except (OSError, ValueError, UnicodeError):
        return _("The host %(host)s cannot be resolved.") % {"host": parsed.hostname}
    refused = [a for a in addresses if address_refused(a)]
    if refused and not allow_private:
        return _(
            "The host resolves to %(address)s, a private, loopback or reserved address. "
            "Webhooks go to public addresses only (an admin can allow one)."
        ) % {"address": refused[0]}
    return ""


class _GuardedHTTPConnection(http.client.HTTPConnection):
    """Connects only to an address checked right then: DNS may have changed since creation."""

    allow_private = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = self._checked_connection  # type: ignore[method-assign]

    def _checked_connection(
        self, address: tuple[str, int], timeout: Any = None, source_address: Any = None
    ) -> socket.socket:
        host, port = address
        addresses = _resolve(host, port)
        refused = [a for a in addresses if address_refused(a)]
        if refused and not self.allow_private:
            raise TargetRefused(
                f"{host} resolves to {refused[0]}, a private, loopback or reserved address"
            )
        # Connect to the address that was checked (no second lookup for the attacker to turn).
        return socket.create_connection((addresses[0], port), timeout, source_address)


class _GuardedHTTPSConnection(http.client.HTTPSConnection, _GuardedHTTPConnection):
    pass  # TLS still checks the certificate against the host name (server_hostname)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is the receiver's answer, recorded as a failed delivery, never followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@functools.cache
def _opener(allow_private: bool) -> urllib.request.OpenerDirector:
    http_class: Any = type("Conn", (_GuardedHTTPConnection,), {"allow_private": allow_private})
    https_class: Any = type("Conns", (_GuardedHTTPSConnection,), {"allow_private": allow_private})

    class Handler(urllib.request.HTTPHandler):
        def http_open(self, req: Any) -> Any:
            return self.do_open(http_class, req)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: Any) -> Any:
            return self.do_open(https_class, req, context=self._context)  # type: ignore[attr-defined]

    # No proxy from the environment: the check must see the address actually connected to.
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), Handler(), HTTPSHandler(), _NoRedirect()
    )


def webhook_subscribers(event: str) -> list[int]:
    """Return the ids of the active subscriptions that want ``event``, in one small query.

    Every loyalty booking asks this (hundreds per second at the till), nearly
    always to learn that nobody subscribes. The statement is therefore written
    out: compiling the ORM query cost 140 µs (SQLite) to 200 µs (PostgreSQL) of
    CPU per call, this costs a fraction (bench/bench_webhook_emit.py). The few
    rows' event lists are matched here, as SQLite has no JSON containment.
    """
    rows = statement_run("default", _subscribers_sql(), [True], "all")
    wanted = []
    for pk, events in rows:
        names = json.loads(events) if isinstance(events, str | bytes) else events
        if event in names or "*" in names:
            wanted.append(pk)
    return wanted


@functools.cache
def _subscribers_sql() -> str:
    meta, quote = WebhookSubscription._meta, connection.ops.quote_name
    columns = {f.name: quote(f.column) for f in meta.concrete_fields if f.column}
    return (
        f"SELECT {columns['id']}, {columns['events']} FROM {quote(meta.db_table)}"
        f" WHERE {columns['active']} = %s"
    )


def webhook_emit(*, event: str, payload: Payload) -> list[WebhookDelivery]:
    """Queue ``event`` for every active subscription; sending starts after commit.

    Call it from any service inside its transaction: the deliveries are rows
    of that transaction (rolled back with it) and the HTTP requests run only
    after the commit, never inside it. ``payload`` may be a function that
    returns it, so that hot paths build it (and run its queries) only when a
    subscription wants the event. Without one, the call costs one small query.
    Raises ApplicationError for unknown events.
    """
    if event not in EVENTS:
        raise ApplicationError(f"Unknown webhook event “{event}”.", code="webhook_event")
    subscription_ids = webhook_subscribers(event)
    if not subscription_ids:
        return []
    now = timezone.now()
    data = payload() if callable(payload) else payload
    envelope = json.loads(
        json.dumps(
            {"event": event, "occurred_at": now.isoformat(), "data": data},
            cls=DjangoJSONEncoder,
        )
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(subscription_id=pk, event=event, payload=envelope, next_attempt_at=now)
            for pk in subscription_ids
        ]
    )
    _enqueue([d.pk for d in deliveries])
    return deliveries


def _enqueue(ids: list[int]) -> None:
    """Send the deliveries once the caller's transaction commits (a job of ``core.jobs``).

    In the embedded default (no broker) they go to this process's one sender
    thread instead of the runner's small thread pool: hundreds of
    ``points.changed`` events a second for a slow subscriber would otherwise
    hold the pool (and an import would wait behind them). The scheduled
    ``dataio.webhooks_deliver_due`` sends whatever is left either way.
    """
    from stammkunde.core.jobs.runner import run_mode
    from stammkunde.core.jobs.services import job_start

    if run_mode() == "thread":
        transaction.on_commit(lambda: _sender_queue().put(ids))
        return
    job_start(kind="dataio.webhooks_deliver", params={"delivery_ids": ids})


_sender_lock = threading.Lock()
_sender: queue.SimpleQueue[list[int]] | None = None


def _sender_queue() -> queue.SimpleQueue[list[int]]:
    """The process's delivery queue; its one sender thread starts with the first event."""
    global _sender
    with _sender_lock:
        if _sender is None:
            _sender = queue.SimpleQueue()
            threading.Thread(
                target=_send_forever, args=(_sender,), name="webhook-sender", daemon=True
            ).start()
    return _sender


def _send_forever(pending: queue.SimpleQueue[list[int]]) -> None:
    while True:
        ids = pending.get()
        while True:  # what piled up meanwhile goes out in one pass
            try:
                ids = ids + pending.get_nowait()
            except queue.Empty:
                break
        for attempt in range(5):
            try:
                webhook_deliver_due(ids=ids)
                break
            except OperationalError:  # e.g. SQLite busy beyond its timeout: wait and again
                time.sleep(0.1 * 2**attempt)
            except Exception:  # a failed pass is retried by the due-deliveries job
                logger.exception("webhook deliveries %s failed", ids[:20])
                break
            finally:
                connections.close_all()  # this thread's own; the next event may be far off
        else:
            logger.error("webhook deliveries %s failed five times; left to the retry job", ids[:20])


def webhook_deliver(*, delivery: WebhookDelivery, now: datetime | None = None) -> WebhookDelivery:
    """Send one delivery now and record the outcome (and the next try on failure).

    Runs outside any transaction: the HTTP request may take up to 10 s.
    """
    subscription = delivery.subscription
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Stammkunde-Webhooks/1",
            "X-Stammkunde-Event": delivery.event,
            "X-Stammkunde-Delivery": str(delivery.pk),
            "X-Stammkunde-Timestamp": str(timestamp),
            "X-Stammkunde-Signature": sign(
                secret=subscription.secret, timestamp=timestamp, body=body
            ),
        },
    )
    code: int | None = None
    error = ""
    opener = _opener(private_allowed(subscription))
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            code = response.status
    except urllib.error.HTTPError as exc:
        code = exc.code
        error = f"HTTP {exc.code}"
        if 300 <= exc.code < 400:
            error += " (redirects are not followed)"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))[:500]
    now = now or timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code = code
    delivery.error = error
    if code is not None and 200 <= code < 300:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.next_attempt_at = None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "response_code",
            "error",
            "status",
            "next_attempt_at",
        ]
    )
    return delivery


def webhook_deliver_due(*, ids: list[int] | None = None, limit: int = 200) -> int:
    """Send the pending deliveries that are due (or the given pending ones); return the count.

    Each delivery is claimed first (its next try moved 5 minutes ahead, rows
    locked with SKIP LOCKED on PostgreSQL) so that two workers never send the
    same delivery at once; the HTTP requests run after that short transaction.
    """
    now = timezone.now()
    with transaction.atomic():
        qs = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        qs = qs.filter(pk__in=ids) if ids is not None else qs.filter(next_attempt_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        claimed = list(qs.order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
        WebhookDelivery.objects.filter(pk__in=claimed).update(next_attempt_at=now + LEASE)
    for delivery in WebhookDelivery.objects.filter(pk__in=claimed).select_related("subscription"):
        webhook_deliver(delivery=delivery)
    return len(claimed)


@transaction.atomic
def webhook_resend(*, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue a copy of a delivery (same event and payload) to be sent now."""
    copy = WebhookDelivery.objects.create(
        subscription=delivery.subscription,
        event=delivery.event,
        payload=delivery.payload,
        next_attempt_at=timezone.now(),
    )
    _enqueue([copy.pk])
    return copy


@transaction.atomic
def webhook_subscription_create(
    *,
    actor: User,
    name: str,
    url: str,
    events: list[str],
    secret: str = "",
    allow_private_network: bool = False,
) -> WebhookSubscription:
    """Add a receiver for events (``["*"]`` for all); the secret is generated unless given.

    The URL's host must resolve to public addresses only, unless an admin allows a
    private one (``allow_private_network``, or the ``WEBHOOK_ALLOW_PRIVATE`` setting).
    """
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Required."]
    if allow_private_network and not has_role(actor, ADMIN):
        errors["allow_private_network"] = [_("Only an admin can allow a private address.")]
    problem = target_error(url, allow_private=allow_private_network or bool(private_allowed()))
    if problem:
        errors["url"] = [problem]
    unknown = sorted(set(events) - set(EVENTS) - {"*"})
    if not events or unknown:
        errors["events"] = [f"Choose from: {', '.join(EVENTS)} or *."]
    if errors:
        raise ApplicationError("The webhook subscription is not valid.", field_errors=errors)
    subscription = WebhookSubscription(
        name=name.strip(),
        url=url,
        events=sorted(set(events)),
        allow_private_network=allow_private_network,
    )
    if secret:
        subscription.secret = secret
    subscription.save()
    return subscription
