"""Mail accounts on the settings page: saved encrypted, refused whole, tested against real peers.

The connection tests talk to Debian's dovecot (IMAP, started like the poller's
tests do: a missing dovecot skips locally and fails in CI) and to an aiosmtpd
SMTP server on a free port; nothing is mocked but the name service for the one
"host not found" case (no test may ask a real DNS server).
"""

from __future__ import annotations

import json
import smtplib
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from stammkunde.channels import services as channels_services
from stammkunde.channels.imap import mailbox_poll
from stammkunde.channels.models import Mailbox, OutboxMessage, OutgoingServer
from stammkunde.channels.services import accounts
from stammkunde.core.crypto import secret_decrypt
from stammkunde.core.errors import ApplicationError
from stammkunde.core.models import AuditEntry
from stammkunde.service.models import Queue
from tests.channels.conftest import SinkHandler, free_port, mail
from tests.channels.dovecot import PASSWORD, USER, Dovecot, running_dovecot

pytestmark = pytest.mark.django_db

SMTP_USER, SMTP_PASSWORD = "shop", "Smtp-Geheim-9"


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with running_dovecot() as server:
        yield server


@pytest.fixture
def smtp_peer() -> Iterator[Callable[..., Any]]:
    """Start a real SMTP server (aiosmtpd) on a free port; with ``login`` it wants AUTH."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    controllers = []

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = data.login == SMTP_USER.encode() and data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # a refusal is answered 535

    def start(*, login: bool = False) -> SinkHandler:
        handler = SinkHandler()
        port = free_port()
        extra = {"authenticator": authenticate, "auth_require_tls": False} if login else {}
        controller = Controller(handler, hostname="127.0.0.1", port=port, **extra)
        controller.start()
        controllers.append(controller)
        handler.port = port  # type: ignore[attr-defined]
        return handler

    yield start
    for controller in controllers:
        controller.stop()


def _mailbox(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Kundenservice",
        "address": "service@radhaus.example",
        "queue": None,
        "host": "imap.radhaus.example",
        "port": 993,
        "use_ssl": True,
        "username": "service@radhaus.example",
        "password": "Imap-Geheim-1",
        "password_env": "",
        "folder": "INBOX",
    }
    data.update(overrides)
    return data


def _imap(server: Dovecot, **overrides: Any) -> dict[str, Any]:
    data = {
        "host": "127.0.0.1",
        "port": server.imap_port,
        "use_ssl": False,
        "username": USER,
        "password": PASSWORD,
    }
    return _mailbox(**{**data, **overrides})


def _smtp(port: int, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "use_starttls": False,
        "use_tls": False,
        "username": "",
        "password": "",
        "sender": "Radhaus Müller <service@radhaus.example>",
    }
    data.update(overrides)
    return data


def _client(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.force_login(user)
    return client


# --------------------------------------------------------------------------- saving
def test_a_mailbox_password_is_stored_encrypted_and_audited_without_it(admin):
    mailbox = channels_services.mailbox_save(actor=admin, mailbox=None, **_mailbox())
    mailbox.refresh_from_db()
    assert "Imap-Geheim-1" not in mailbox.password_encrypted
    assert secret_decrypt(mailbox.password_encrypted) == "Imap-Geheim-1"
    entry = AuditEntry.objects.get(object_type="channels.Mailbox")
    assert entry.action == "create" and entry.actor == admin
    assert entry.changes["password"] == ["", "stored"]
    audited = json.dumps(entry.changes)
    assert "Imap-Geheim-1" not in audited and mailbox.password_encrypted not in audited


def test_an_empty_password_keeps_the_stored_one(admin):
    mailbox = channels_services.mailbox_save(actor=admin, mailbox=None, **_mailbox())
    stored = mailbox.password_encrypted
    channels_services.mailbox_save(
        actor=admin, mailbox=mailbox, **_mailbox(password="", folder="Kunden")
    )
    mailbox.refresh_from_db()
    assert mailbox.password_encrypted == stored and mailbox.folder == "Kunden"
    change = AuditEntry.objects.filter(action="update").get()
    assert change.changes == {"folder": ["INBOX", "Kunden"]}


def test_a_new_password_replaces_and_a_removed_one_falls_back_to_the_variable(admin):
    mailbox = channels_services.mailbox_save(actor=admin, mailbox=None, **_mailbox())
    channels_services.mailbox_save(
        actor=admin, mailbox=mailbox, **_mailbox(password="Neu-Geheim-2")
    )
    mailbox.refresh_from_db()
    assert secret_decrypt(mailbox.password_encrypted) == "Neu-Geheim-2"
    channels_services.mailbox_save(
        actor=admin,
        mailbox=mailbox,
        **_mailbox(password="", password_env="SHOP_IMAP_PASSWORD"),
        clear_password=True,
    )
    mailbox.refresh_from_db()
    assert mailbox.password_encrypted == "" and mailbox.password_env == "SHOP_IMAP_PASSWORD"
    assert [e.changes.get("password") for e in AuditEntry.objects.order_by("id")] == [
        ["", "stored"],
        ["stored", "replaced"],
        ["stored", "removed"],
    ]


@pytest.mark.parametrize("port", [0, 65536, -1, None])
def test_a_port_outside_1_to_65535_is_refused_in_german_and_nothing_saved(admin, port):
    with translation.override("de"), pytest.raises(ApplicationError) as refused:
        channels_services.mailbox_save(actor=admin, mailbox=None, **_mailbox(port=port))
    assert refused.value.field_errors["port"] == ["Der Port ist eine Zahl von 1 bis 65535."]
    assert not Mailbox.objects.exists() and not AuditEntry.objects.exists()


def test_tls_that_cannot_fit_the_imap_port_is_refused(admin):
    for data in (_mailbox(port=993, use_ssl=False), _mailbox(port=143, use_ssl=True)):
        with translation.override("de"), pytest.raises(ApplicationError) as refused:
            channels_services.mailbox_save(actor=admin, mailbox=None, **data)
        assert "TLS" in refused.value.field_errors["use_ssl"][0]
    assert not Mailbox.objects.exists()


def test_an_address_another_mailbox_has_is_refused_and_the_change_not_saved(admin):
    channels_services.mailbox_save(actor=admin, mailbox=None, **_mailbox())
    other = channels_services.mailbox_save(
        actor=admin,
        mailbox=None,
        **_mailbox(name="Werkstatt", address="werkstatt@radhaus.example", host=""),
    )
    with translation.override("de"), pytest.raises(ApplicationError) as refused:
        channels_services.mailbox_save(
            actor=admin,
            mailbox=other,
            **_mailbox(name="Werkstatt neu", address="SERVICE@radhaus.example", port=70000),
        )
    errors = refused.value.field_errors
    assert errors["address"] == [
        "Die Adresse SERVICE@radhaus.example hat schon das Postfach Kundenservice."
    ]
    assert "port" in errors  # every refusal at once, not only the first
    other.refresh_from_db()
    assert (other.name, other.address) == ("Werkstatt", "werkstatt@radhaus.example")
    assert AuditEntry.objects.count() == 2


def test_an_imap_host_needs_a_user_and_a_password_or_a_variable(admin):
    with pytest.raises(ApplicationError) as refused:
        channels_services.mailbox_save(
            actor=admin, mailbox=None, **_mailbox(username="", password="", host="imap.x.de")
        )
    assert {"username", "password"} <= set(refused.value.field_errors)
    with pytest.raises(ApplicationError) as refused:
        channels_services.mailbox_save(
            actor=admin, mailbox=None, **_mailbox(password_env="1-bad name")
        )
    assert "password_env" in refused.value.field_errors


def test_a_mailbox_is_deactivated_and_reactivated_with_an_audit_entry(admin):
    mailbox = channels_services.mailbox_save(actor=admin, mailbox=None, **_mailbox(host=""))
    channels_services.mailbox_active_set(actor=admin, mailbox=mailbox, active=False)
    mailbox.refresh_from_db()
    assert not mailbox.active
    assert AuditEntry.objects.filter(action="update").get().changes == {"active": [True, False]}


def test_the_smtp_server_is_stored_encrypted_and_refuses_tls_that_cannot_fit(admin):
    server = channels_services.outgoing_server_save(
        actor=admin,
        **_smtp(587, use_starttls=True, username="shop", password="Smtp-1", host="smtp.x.de"),
    )
    assert secret_decrypt(server.password_encrypted) == "Smtp-1"
    for port, starttls, tls in ((587, True, True), (465, False, False), (587, False, True)):
        with translation.override("de"), pytest.raises(ApplicationError) as refused:
            channels_services.outgoing_server_save(
                actor=admin,
                **_smtp(port, use_starttls=starttls, use_tls=tls, host="smtp.y.de"),
            )
        assert "use_tls" in refused.value.field_errors
    with pytest.raises(ApplicationError) as refused:
        channels_services.outgoing_server_save(actor=admin, **_smtp(0, sender="kein Absender"))
    assert {"port", "sender"} <= set(refused.value.field_errors)
    server.refresh_from_db()
    assert (server.host, server.port) == ("smtp.x.de", 587)
    assert AuditEntry.objects.filter(object_type="channels.OutgoingServer").count() == 1


def test_the_outbox_sends_through_the_saved_smtp_server_with_its_sender(admin, smtp_peer):
    peer = smtp_peer(login=True)
    channels_services.outgoing_server_save(
        actor=admin, **_smtp(peer.port, username=SMTP_USER, password=SMTP_PASSWORD)
    )
    outbox = channels_services.outbox_enqueue_test(
        to="kunde@example.de", subject="Test", body="Hallo", headers={}
    )
    assert outbox.sender == "Radhaus Müller <service@radhaus.example>"
    assert outbox.message_id.endswith("@radhaus.example")
    assert channels_services.outbox_send(outbox_id=outbox.pk) == "sent"
    assert [m["To"] for m in peer.messages] == ["kunde@example.de"]
    assert OutboxMessage.objects.get(pk=outbox.pk).status == "sent"


def test_an_invitation_mail_goes_through_the_saved_smtp_server(
    admin, smtp_peer, django_capture_on_commit_callbacks
):
    from stammkunde.setup import services as setup_services

    peer = smtp_peer()
    channels_services.outgoing_server_save(actor=admin, **_smtp(peer.port))
    with django_capture_on_commit_callbacks(execute=True):
        setup_services.colleague_invite(
            actor=admin,
            base_url="https://stammkunde.example/",
            username="tom",
            email="tom@radhaus.example",
            roles=["agent"],
        )
    assert [m["To"] for m in peer.messages] == ["tom@radhaus.example"]
    assert "service@radhaus.example" in peer.messages[0]["From"]


# --------------------------------------------------------------------------- IMAP, dovecot
def _deliver(server: Dovecot, n: int) -> None:
    with smtplib.LMTP("127.0.0.1", server.lmtp_port) as lmtp:
        for i in range(n):
            lmtp.sendmail(
                f"kunde{i}@example.de",
                [USER],
                mail(sender=f"kunde{i}@example.de", message_id=f"<konto{i}@example.de>"),
            )


def test_the_poller_logs_in_with_the_stored_password(admin, dovecot):
    queue = Queue.objects.create(name="Kundenservice")
    mailbox = channels_services.mailbox_save(
        actor=admin, mailbox=None, **_imap(dovecot, queue=queue)
    )
    assert mailbox.password_env == ""
    _deliver(dovecot, 2)
    report = mailbox_poll(mailbox=Mailbox.objects.get(pk=mailbox.pk))
    assert report.fetched == 2 and report.results == {"new_ticket": 2}


def test_imap_test_reports_the_login_and_the_folder_in_german(dovecot):
    _deliver(dovecot, 3)
    with translation.override("de"):
        check = channels_services.mailbox_test(mailbox=None, **_imap(dovecot))
    assert check.ok and check.code == "ok"
    assert check.message == (
        f"Angemeldet als {USER} bei 127.0.0.1:{dovecot.imap_port} ohne TLS, "
        "Ordner INBOX: 3 Nachrichten."
    )
    assert not Mailbox.objects.exists()  # a test saves nothing


def test_imap_test_with_a_wrong_password_says_the_login_was_refused(dovecot):
    with translation.override("de"):
        check = channels_services.mailbox_test(mailbox=None, **_imap(dovecot, password="falsch"))
    assert not check.ok and check.code == "login"
    assert check.message.startswith(
        f"127.0.0.1:{dovecot.imap_port} hat die Anmeldung als {USER} abgelehnt: "
        "Benutzername oder Passwort falsch"
    )


def test_imap_test_of_a_missing_folder_names_the_folders_there_are(dovecot):
    with translation.override("de"):
        check = channels_services.mailbox_test(mailbox=None, **_imap(dovecot, folder="Kunden"))
    assert not check.ok and check.code == "folder"
    assert "Ordner Kunden gibt es nicht" in check.message and "INBOX" in check.message


def test_imap_test_of_a_port_without_server_says_refused(dovecot):
    port = free_port()
    with translation.override("de"):
        check = channels_services.mailbox_test(mailbox=None, **_imap(dovecot, port=port))
    assert not check.ok and check.code == "refused"
    assert check.message.startswith(f"127.0.0.1:{port} hat die Verbindung abgelehnt")


def test_imap_test_with_tls_on_a_plain_port_says_the_tls_handshake_failed(dovecot):
    with translation.override("de"):
        check = channels_services.mailbox_test(mailbox=None, **_imap(dovecot, use_ssl=True))
    assert not check.ok and check.code == "tls"
    assert check.message.startswith(f"Der TLS-Handshake mit 127.0.0.1:{dovecot.imap_port}")


def test_imap_test_of_a_server_that_never_greets_is_a_timeout(monkeypatch):
    monkeypatch.setattr(accounts, "CHECK_TIMEOUT", 1)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection (backlog) but never says a word
        port = silent.getsockname()[1]
        check = channels_services.mailbox_test(
            mailbox=None, **_mailbox(host="127.0.0.1", port=port, use_ssl=False)
        )
    assert not check.ok and check.code == "timeout"


def test_imap_test_of_an_unknown_host_says_dns(monkeypatch):
    def no_such_name(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    with translation.override("de"):
        check = channels_services.mailbox_test(
            mailbox=None, **_mailbox(host="imap.gibt-es-nicht.example")
        )
    assert not check.ok and check.code == "dns"
    assert "imap.gibt-es-nicht.example wurde nicht gefunden (DNS)" in check.message


def test_imap_test_of_a_saved_mailbox_uses_its_stored_password(admin, dovecot):
    mailbox = channels_services.mailbox_save(actor=admin, mailbox=None, **_imap(dovecot))
    assert channels_services.mailbox_connection_test(mailbox=mailbox).ok
    # The form's test with an empty password takes the stored one as well.
    assert channels_services.mailbox_test(mailbox=mailbox, **_imap(dovecot, password="")).ok


def test_imap_test_with_an_unset_variable_says_so(dovecot, monkeypatch):
    monkeypatch.delenv("SHOP_IMAP_UNSET", raising=False)
    with translation.override("de"):
        check = channels_services.mailbox_test(
            mailbox=None, **_imap(dovecot, password="", password_env="SHOP_IMAP_UNSET")
        )
    assert not check.ok and check.code == "password" and "SHOP_IMAP_UNSET" in check.message


# --------------------------------------------------------------------------- SMTP, aiosmtpd
def test_smtp_test_without_login_reports_the_accepted_sender(smtp_peer):
    peer = smtp_peer()
    with translation.override("de"):
        check = channels_services.outgoing_server_test(**_smtp(peer.port))
    assert check.ok and check.code == "ok"
    assert check.message == (
        f"Verbunden mit 127.0.0.1:{peer.port} ohne Anmeldung; der Server nimmt Mail von "
        "service@radhaus.example an."
    )
    assert peer.messages == [] and not OutgoingServer.objects.exists()  # no mail, no save


def test_smtp_test_with_login_succeeds_and_a_wrong_password_is_refused(smtp_peer):
    peer = smtp_peer(login=True)
    with translation.override("de"):
        good = channels_services.outgoing_server_test(
            **_smtp(peer.port, username=SMTP_USER, password=SMTP_PASSWORD)
        )
        bad = channels_services.outgoing_server_test(
            **_smtp(peer.port, username=SMTP_USER, password="falsch")
        )
    assert good.ok and f"angemeldet als {SMTP_USER}" in good.message
    assert not bad.ok and bad.code == "login"
    assert f"hat die Anmeldung als {SMTP_USER} abgelehnt" in bad.message


def test_smtp_test_of_a_port_without_server_says_refused():
    port = free_port()
    with translation.override("de"):
        check = channels_services.outgoing_server_test(**_smtp(port))
    assert not check.ok and check.code == "refused"
    assert check.message.startswith(f"127.0.0.1:{port} hat die Verbindung abgelehnt")


def test_smtp_test_names_a_missing_starttls_and_a_failed_tls_handshake(smtp_peer):
    peer = smtp_peer()
    with translation.override("de"):
        starttls = channels_services.outgoing_server_test(**_smtp(peer.port, use_starttls=True))
        tls = channels_services.outgoing_server_test(**_smtp(peer.port, use_tls=True))
    assert not starttls.ok and starttls.code == "starttls" and "STARTTLS" in starttls.message
    assert not tls.ok and tls.code == "tls" and "TLS-Handshake" in tls.message


# --------------------------------------------------------------------------- pages
MAIL_PAGES = ("settings:mail_accounts", "settings:mailbox_create", "settings:mail_outgoing")


def test_an_admin_opens_the_mail_pages_and_finds_the_section(admin):
    client = _client(admin)
    for name in MAIL_PAGES:
        assert client.get(reverse(name)).status_code == 200, name
    index = client.get(reverse("settings:index")).content.decode()
    assert reverse("settings:mail_accounts") in index


@pytest.mark.parametrize("role", ["team_lead", "agent", "partner_agent", "marketing", "analyst"])
def test_other_roles_are_refused_the_mail_pages(make_user, partner, role):
    client = _client(make_user(role, partner=partner if role == "partner_agent" else None))
    for name in MAIL_PAGES:
        assert client.get(reverse(name)).status_code == 403, name
    assert client.post(reverse("settings:mail_outgoing"), _smtp(25)).status_code == 403
    assert not OutgoingServer.objects.exists()


def test_a_mailbox_saved_on_the_page_never_shows_its_password_again(admin):
    client = _client(admin)
    data = {k: v for k, v in _mailbox().items() if v is not None}
    data["use_ssl"] = "on"
    response = client.post(reverse("settings:mailbox_create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    mailbox = Mailbox.objects.get()
    page = client.get(reverse("settings:mailbox", args=[mailbox.pk])).content.decode()
    assert "Imap-Geheim-1" not in page and mailbox.password_encrypted not in page
    assert "Leer lassen, um es zu behalten" in page


def test_a_refused_mailbox_form_shows_german_field_errors_and_saves_nothing(admin):
    data = {**_mailbox(port=70000), "use_ssl": "on", "queue": ""}
    response = _client(admin).post(reverse("settings:mailbox_create"), data)
    assert response.status_code == 200
    assert "Der Port ist eine Zahl von 1 bis 65535." in response.content.decode()
    assert not Mailbox.objects.exists()


def test_the_test_button_on_the_form_reports_and_saves_nothing(admin, dovecot):
    data = {**_imap(dovecot), "test": "1"}
    data.pop("queue")
    data.pop("use_ssl")  # unticked
    response = _client(admin).post(reverse("settings:mailbox_create"), data)
    page = response.content.decode()
    assert response.status_code == 200 and 'id="connection-result"' in page
    assert f"Angemeldet als {USER}" in page
    assert not Mailbox.objects.exists()


def test_the_test_button_of_the_smtp_server_on_the_list(admin, smtp_peer):
    peer = smtp_peer()
    client = _client(admin)
    channels_services.outgoing_server_save(actor=admin, **_smtp(peer.port))
    response = client.post(reverse("settings:mail_outgoing_test"), follow=True)
    assert "der Server nimmt Mail von service@radhaus.example an" in response.content.decode()


def test_a_mailbox_is_deactivated_on_its_page(admin):
    mailbox = channels_services.mailbox_save(actor=admin, mailbox=None, **_mailbox(host=""))
    response = _client(admin).post(
        reverse("settings:mailbox_active", args=[mailbox.pk]), {"active": "0"}
    )
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert not mailbox.active
