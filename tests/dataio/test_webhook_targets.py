"""Webhook targets: no private, loopback or reserved addresses (SSRF), no redirects followed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from stammkunde.core.errors import ApplicationError
from stammkunde.dataio.models import WebhookDelivery, WebhookSubscription
from stammkunde.dataio.services import webhooks
from stammkunde.dataio.services.webhooks import (
    address_refused,
    webhook_deliver_due,
    webhook_emit,
    webhook_subscription_create,
)

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"


class Server:
    """A loopback HTTP server answering ``status`` (with ``location`` for redirects)."""

    def __init__(self, status: int = 204, location: str = "") -> None:
        self.paths: list[str] = []
        self.hosts: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                server.paths.append(self.path)
                server.hosts.append(self.headers["Host"])
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.178.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert address_refused(address)


@pytest.mark.parametrize("address", [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not address_refused(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://[::1]/hook",
        "https://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/",
    ],
)
def test_a_private_target_is_refused_at_creation_with_a_field_error(admin: Any, url: str) -> None:
    with pytest.raises(ApplicationError) as error:
        webhook_subscription_create(actor=admin, name="x", url=url, events=["*"])
    assert set(error.value.field_errors) == {"url"}
    assert "private" in error.value.field_errors["url"][0]
    assert not WebhookSubscription.objects.exists()


def test_a_host_that_does_not_resolve_is_refused(admin: Any) -> None:
    with pytest.raises(ApplicationError) as error:
        webhook_subscription_create(
            actor=admin, name="x", url="https://no-such-host.invalid/hook", events=["*"]
        )
    assert "no-such-host.invalid" in error.value.field_errors["url"][0]


def test_a_public_target_is_accepted(admin: Any) -> None:
    subscription = webhook_subscription_create(
        actor=admin, name="CRM", url=f"https://{PUBLIC}/hook", events=["*"]
    )
    assert not subscription.allow_private_network


def test_only_an_admin_allows_a_private_target(make_user: Any) -> None:
    lead = make_user("team_lead")
    with pytest.raises(ApplicationError) as error:
        webhook_subscription_create(
            actor=lead,
            name="x",
            url="http://10.0.0.5/",
            events=["*"],
            allow_private_network=True,
        )
    assert "allow_private_network" in error.value.field_errors


def test_the_setting_allows_private_targets(admin: Any, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = True
    webhook_subscription_create(actor=admin, name="x", url="http://10.0.0.5/", events=["*"])


def test_the_form_shows_the_refusal_at_the_url_field(admin: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.force_login(admin)
    page = client.post(
        "/dataio/webhooks/", {"name": "x", "url": "http://127.0.0.1/hook", "events": ["*"]}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "privaten" in html and "errorlist" in html
    assert not WebhookSubscription.objects.exists()


def _fake_dns(monkeypatch: Any, answers: list[list[str]]) -> None:
    """Answer the lookups of ``webhooks._resolve`` in turn (the last one repeats)."""

    def resolve(host: str, port: int) -> list[str]:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    monkeypatch.setattr(webhooks, "_resolve", resolve)


def test_a_host_that_turns_private_after_creation_is_refused_at_send_time(
    admin: Any, server: Server, monkeypatch: Any
) -> None:
    # given: the host was public when the subscription was made, now it points at loopback
    _fake_dns(monkeypatch, [[PUBLIC], ["127.0.0.1"]])
    webhook_subscription_create(
        actor=admin, name="CRM", url=f"http://hooks.example.com:{server.port}/hook", events=["*"]
    )
    delivery = webhook_emit(event="points.changed", payload={})[0]
    # when
    webhook_deliver_due(ids=[delivery.pk])
    # then
    delivery.refresh_from_db()
    assert server.paths == []
    assert delivery.status == "pending" and delivery.response_code is None
    assert "127.0.0.1" in delivery.error and "private" in delivery.error


def test_the_checked_address_is_the_one_connected_to(
    admin: Any, server: Server, monkeypatch: Any, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = True
    _fake_dns(monkeypatch, [["127.0.0.1"]])
    webhook_subscription_create(
        actor=admin, name="CRM", url=f"http://hooks.example.com:{server.port}/hook", events=["*"]
    )
    delivery = webhook_emit(event="points.changed", payload={})[0]
    webhook_deliver_due(ids=[delivery.pk])
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert server.hosts == [f"hooks.example.com:{server.port}"]


def test_a_redirect_is_a_failed_delivery_and_is_not_followed(admin: Any, server: Server) -> None:
    # given: a receiver that redirects to another (internal) address
    redirecting = Server(status=302, location=server.url)
    try:
        webhook_subscription_create(
            actor=admin,
            name="CRM",
            url=redirecting.url,
            events=["*"],
            allow_private_network=True,
        )
        delivery = webhook_emit(event="points.changed", payload={})[0]
        # when
        webhook_deliver_due(ids=[delivery.pk])
    finally:
        redirecting.close()
    # then
    delivery.refresh_from_db()
    assert redirecting.paths == ["/hook"]
    assert server.paths == []
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.response_code == 302
    assert "redirect" in delivery.error
