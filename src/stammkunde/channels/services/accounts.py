"""Mail accounts set on the settings page: incoming mailboxes (IMAP) and the SMTP server.

Each save checks everything before it writes, in one transaction, and refuses a
contradiction whole with field errors in the person's language (a port outside
1–65535, TLS settings that cannot work on that port, an address that another
mailbox has). Passwords are stored encrypted (``core.crypto``) and never handed
back: an empty password keeps the stored one. Every change is audited, a
password only as "stored"/"replaced"/"removed". The connection tests write
nothing: they check the input as a save would, then try the server the way the
poller and the outbox will (``channels.servers``).
"""

from __future__ import annotations

import ipaddress
import re
from email.utils import parseaddr
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from stammkunde.core.access import User
from stammkunde.core.audit import audit_record, diff, snapshot
from stammkunde.core.crypto import secret_encrypt
from stammkunde.core.errors import ApplicationError

from ..models import Mailbox, OutgoingServer
from ..servers import (
    CHECK_TIMEOUT,
    ConnectionCheck,
    PasswordUnavailable,
    SmtpConfig,
    imap_check,
    password_of,
    smtp_check,
)

MAILBOX_FIELDS = (
    "name",
    "address",
    "queue",
    "host",
    "port",
    "use_ssl",
    "username",
    "password_env",
    "folder",
)
# Changing one of these points polling at another folder: it starts over there.
MAILBOX_SOURCE_FIELDS = ("host", "port", "username", "folder")
OUTGOING_FIELDS = ("host", "port", "use_starttls", "use_tls", "username", "sender")
IMAP_TLS_PORT, IMAP_PLAIN_PORT = 993, 143
SMTPS_PORT, SMTP_PLAIN_PORTS = 465, (25, 587)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)


class _Refusals:
    """Field errors collected over the whole input, raised together (nothing is written)."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def has(self, field: str) -> bool:
        return field in self.errors

    def raise_any(self) -> None:
        if self.errors:
            messages = [m for ms in self.errors.values() for m in ms]
            raise ApplicationError(" ".join(messages), code="invalid", field_errors=self.errors)


def _refuse(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid", field_errors={field: [message]})


def _check_length(refusals: _Refusals, model: Any, values: dict[str, str]) -> None:
    for field, value in values.items():
        limit = model._meta.get_field(field).max_length
        if limit and len(value) > limit:
            refusals.add(field, _("At most %(limit)d characters, please.") % {"limit": int(limit)})


def _check_port(refusals: _Refusals, port: Any) -> int | None:
    try:
        number = int(port)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= 65535:
        refusals.add("port", _("The port is a number from 1 to 65535."))
        return None
    return number


def _check_host(refusals: _Refusals, host: str, example: str) -> None:
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    if not _HOST_NAME.match(host):
        refusals.add(
            "host",
            _("Enter only the server's name, without imap:// or a port, e.g. %(example)s.")
            % {"example": example},
        )


def _check_password_input(refusals: _Refusals, password: str, clear_password: bool) -> None:
    if password and clear_password:
        refusals.add(
            "password",
            _("Either type a new password or remove the stored one, not both."),
        )


# --------------------------------------------------------------------------- mailboxes
def _mailbox_clean(
    *,
    mailbox: Mailbox | None,
    name: str,
    address: str,
    queue: Any,
    host: str,
    port: Any,
    use_ssl: bool,
    username: str,
    password: str,
    password_env: str,
    folder: str,
    clear_password: bool,
) -> dict[str, Any]:
    """The checked input of a mailbox, or ApplicationError with every field's refusal."""
    refusals = _Refusals()
    clean: dict[str, Any] = {
        "name": (name or "").strip(),
        "address": (address or "").strip(),
        "queue": queue,
        "host": (host or "").strip(),
        "use_ssl": bool(use_ssl),
        "username": (username or "").strip(),
        "password_env": (password_env or "").strip(),
        "folder": (folder or "").strip(),
    }
    others = Mailbox.objects.exclude(pk=mailbox.pk) if mailbox is not None else Mailbox.objects
    if not clean["name"]:
        refusals.add("name", _("Give the mailbox a name, e.g. Kundenservice."))
    elif clash := others.filter(name__iexact=clean["name"]).first():
        refusals.add(
            "name",
            _("A mailbox named %(name)s exists; choose another name.") % {"name": clash.name},
        )
    try:
        validate_email(clean["address"])
    except ValidationError:
        refusals.add("address", _("Enter the mailbox's e-mail address, e.g. service@your-shop.de."))
    else:
        if clash := others.filter(address__iexact=clean["address"]).first():
            refusals.add(
                "address",
                _("The address %(address)s is already used by the mailbox %(other)s.")
                % {"address": clean["address"], "other": clash.name},
            )
    clean["port"] = _check_port(refusals, port)
    _check_length(
        refusals,
        Mailbox,
        {k: clean[k] for k in ("name", "host", "username", "password_env", "folder")},
    )
    if clean["password_env"] and not _ENV_NAME.match(clean["password_env"]):
        refusals.add(
            "password_env",
            _("Only letters, digits and _ (not starting with a digit), e.g. SHOP_IMAP_PASSWORD."),
        )
    _check_password_input(refusals, password, clear_password)
    stored = bool(mailbox and mailbox.password_encrypted and not clear_password)
    if clean["host"]:
        _check_host(refusals, clean["host"], "imap.your-provider.de")
        if not clean["username"]:
            refusals.add(
                "username", _("Enter the user name of the IMAP login (often the mail address).")
            )
        if not (password or stored or clean["password_env"]):
            refusals.add(
                "password",
                _("Type the IMAP password (or name an environment variable that holds it)."),
            )
        if not clean["folder"]:
            refusals.add("folder", _("Name the folder to fetch mail from, usually INBOX."))
        if clean["port"] == IMAP_PLAIN_PORT and clean["use_ssl"]:
            refusals.add(
                "use_ssl",
                _(
                    "Port 143 is IMAP without TLS from the start; turn TLS off, or use port 993 "
                    "with TLS."
                ),
            )
        if clean["port"] == IMAP_TLS_PORT and not clean["use_ssl"]:
            refusals.add(
                "use_ssl",
                _("Port 993 expects TLS from the start; turn TLS on, or use port 143 without TLS."),
            )
    clean["folder"] = clean["folder"] or "INBOX"
    refusals.raise_any()
    return clean


@transaction.atomic
def mailbox_save(
    *,
    actor: User | None,
    mailbox: Mailbox | None,
    name: str,
    address: str,
    queue: Any = None,
    host: str = "",
    port: Any = IMAP_TLS_PORT,
    use_ssl: bool = True,
    username: str = "",
    password: str = "",
    password_env: str = "",
    folder: str = "INBOX",
    clear_password: bool = False,
) -> Mailbox:
    """Create or change an incoming mailbox; the password is stored encrypted (empty: kept)."""
    if mailbox is not None:
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    clean = _mailbox_clean(
        mailbox=mailbox,
        name=name,
        address=address,
        queue=queue,
        host=host,
        port=port,
        use_ssl=use_ssl,
        username=username,
        password=password,
        password_env=password_env,
        folder=folder,
        clear_password=clear_password,
    )
    target = mailbox or Mailbox()
    before = snapshot(target, MAILBOX_FIELDS) if mailbox else {}
    had_password = bool(target.password_encrypted)
    for field, value in clean.items():
        setattr(target, field, value)
    if password:
        target.password_encrypted = secret_encrypt(password)
    elif clear_password:
        target.password_encrypted = ""
    changes = diff(before, snapshot(target, MAILBOX_FIELDS))
    if mailbox is not None and any(f in changes for f in MAILBOX_SOURCE_FIELDS):
        target.uidvalidity, target.last_uid, target.last_error = None, 0, ""
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as exc:  # a second form saved the same name or address meanwhile
        raise _refuse(
            "address", _("Another mailbox got this name or address meanwhile; check the list.")
        ) from exc
    if password:
        changes["password"] = [
            "stored" if had_password else "",
            "replaced" if had_password else "stored",
        ]
    elif clear_password and had_password:
        changes["password"] = ["stored", "removed"]
    if changes:
        audit_record(
            actor=actor, action="update" if mailbox else "create", obj=target, changes=changes
        )
    return target


@transaction.atomic
def mailbox_active_set(*, actor: User | None, mailbox: Mailbox, active: bool) -> Mailbox:
    """Stop (or resume) polling a mailbox; its mail and tickets stay (audited)."""
    row = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    if row.active != active:
        row.active = active
        row.save(update_fields=["active"])
        audit_record(
            actor=actor, action="update", obj=row, changes={"active": [not active, active]}
        )
    return row


def mailbox_test(
    *,
    mailbox: Mailbox | None,
    name: str,
    address: str,
    queue: Any = None,
    host: str = "",
    port: Any = IMAP_TLS_PORT,
    use_ssl: bool = True,
    username: str = "",
    password: str = "",
    password_env: str = "",
    folder: str = "INBOX",
    clear_password: bool = False,
) -> ConnectionCheck:
    """Try the IMAP login and folder as typed in the form (empty password: the stored one).

    The input is checked like a save (ApplicationError); nothing is written.
    """
    clean = _mailbox_clean(
        mailbox=mailbox,
        name=name,
        address=address,
        queue=queue,
        host=host,
        port=port,
        use_ssl=use_ssl,
        username=username,
        password=password,
        password_env=password_env,
        folder=folder,
        clear_password=clear_password,
    )
    if not clean["host"]:
        raise _refuse("host", _("Enter the IMAP host to test, e.g. imap.your-provider.de."))
    stored = mailbox.password_encrypted if mailbox is not None and not clear_password else ""
    try:
        secret = password or password_of(encrypted=stored, env_name=clean["password_env"])
    except PasswordUnavailable as exc:
        return ConnectionCheck(ok=False, code="password", message=exc.explained())
    return imap_check(
        host=clean["host"],
        port=clean["port"],
        use_ssl=clean["use_ssl"],
        username=clean["username"],
        password=secret,
        folder=clean["folder"],
        timeout=CHECK_TIMEOUT,
    )


def mailbox_connection_test(*, mailbox: Mailbox) -> ConnectionCheck:
    """Try a saved mailbox as the poller will (its stored password or environment variable)."""
    if not mailbox.host:
        return ConnectionCheck(
            ok=False,
            code="no_host",
            message=_(
                "%(name)s has no IMAP host: it is not fetched, mail reaches it by LMTP or SMTP."
            )
            % {"name": mailbox.name},
        )
    try:
        secret = password_of(encrypted=mailbox.password_encrypted, env_name=mailbox.password_env)
    except PasswordUnavailable as exc:
        return ConnectionCheck(ok=False, code="password", message=exc.explained())
    return imap_check(
        host=mailbox.host,
        port=mailbox.port,
        use_ssl=mailbox.use_ssl,
        username=mailbox.username,
        password=secret,
        folder=mailbox.folder,
        timeout=CHECK_TIMEOUT,
    )


# --------------------------------------------------------------------------- SMTP server
def _outgoing_clean(
    *,
    server: OutgoingServer | None,
    host: str,
    port: Any,
    use_starttls: bool,
    use_tls: bool,
    username: str,
    password: str,
    sender: str,
    clear_password: bool,
) -> dict[str, Any]:
    """The checked SMTP settings, or ApplicationError with every field's refusal.

    Without a host nothing else is required: the ``EMAIL_*`` settings apply.
    """
    refusals = _Refusals()
    clean: dict[str, Any] = {
        "host": (host or "").strip(),
        "use_starttls": bool(use_starttls),
        "use_tls": bool(use_tls),
        "username": (username or "").strip(),
        "sender": (sender or "").strip(),
    }
    clean["port"] = _check_port(refusals, port)
    _check_length(refusals, OutgoingServer, {k: clean[k] for k in ("host", "username", "sender")})
    _check_password_input(refusals, password, clear_password)
    stored = bool(server and server.password_encrypted and not clear_password)
    if clean["host"]:
        _check_host(refusals, clean["host"], "smtp.your-provider.de")
        if clean["use_starttls"] and clean["use_tls"]:
            refusals.add(
                "use_tls",
                _(
                    "Choose one: STARTTLS (usually port 587) or TLS from the start (usually "
                    "port 465), not both."
                ),
            )
        elif clean["port"] == SMTPS_PORT and not clean["use_tls"]:
            refusals.add(
                "use_tls",
                _(
                    "Port 465 expects TLS from the start; turn it on (and STARTTLS off), or "
                    "use port 587 with STARTTLS."
                ),
            )
        elif clean["port"] in SMTP_PLAIN_PORTS and clean["use_tls"]:
            refusals.add(
                "use_tls",
                _(
                    "Port %(port)s starts without TLS; use STARTTLS there, or port 465 for TLS "
                    "from the start."
                )
                % {"port": clean["port"]},
            )
        if password and not clean["username"]:
            refusals.add("username", _("Enter the user name that belongs to the password."))
        if clean["username"] and not (password or stored):
            refusals.add(
                "password",
                _("Type the SMTP password of %(user)s.") % {"user": clean["username"]},
            )
        address = parseaddr(clean["sender"])[1]
        try:
            validate_email(address)
        except ValidationError:
            refusals.add(
                "sender",
                _(
                    "Enter the sender address, e.g. service@your-shop.de or "
                    "Radhaus Müller <service@radhaus.de>."
                ),
            )
    refusals.raise_any()
    return clean


@transaction.atomic
def outgoing_server_save(
    *,
    actor: User | None,
    host: str,
    port: Any = 587,
    use_starttls: bool = True,
    use_tls: bool = False,
    username: str = "",
    password: str = "",
    sender: str = "",
    clear_password: bool = False,
) -> OutgoingServer:
    """Set the SMTP server of the outbox (empty host: the ``EMAIL_*`` settings again)."""
    server = OutgoingServer.objects.select_for_update().filter(pk=1).first()
    clean = _outgoing_clean(
        server=server,
        host=host,
        port=port,
        use_starttls=use_starttls,
        use_tls=use_tls,
        username=username,
        password=password,
        sender=sender,
        clear_password=clear_password,
    )
    created = server is None
    target = server or OutgoingServer(pk=1)
    before = {} if created else snapshot(target, OUTGOING_FIELDS)
    had_password = bool(target.password_encrypted)
    for field, value in clean.items():
        setattr(target, field, value)
    if password:
        target.password_encrypted = secret_encrypt(password)
    elif clear_password:
        target.password_encrypted = ""
    target.save()
    changes = diff(before, snapshot(target, OUTGOING_FIELDS))
    if password:
        changes["password"] = [
            "stored" if had_password else "",
            "replaced" if had_password else "stored",
        ]
    elif clear_password and had_password:
        changes["password"] = ["stored", "removed"]
    if changes:
        audit_record(
            actor=actor, action="create" if created else "update", obj=target, changes=changes
        )
    return target


def outgoing_server_test(
    *,
    host: str,
    port: Any = 587,
    use_starttls: bool = True,
    use_tls: bool = False,
    username: str = "",
    password: str = "",
    sender: str = "",
    clear_password: bool = False,
) -> ConnectionCheck:
    """Try the SMTP server as typed in the form (empty password: the stored one); send no mail.

    The input is checked like a save (ApplicationError); nothing is written.
    """
    server = OutgoingServer.objects.filter(pk=1).first()
    clean = _outgoing_clean(
        server=server,
        host=host,
        port=port,
        use_starttls=use_starttls,
        use_tls=use_tls,
        username=username,
        password=password,
        sender=sender,
        clear_password=clear_password,
    )
    if not clean["host"]:
        raise _refuse("host", _("Enter the SMTP host to test, e.g. smtp.your-provider.de."))
    stored = server.password_encrypted if server is not None and not clear_password else ""
    secret = ""
    if clean["username"]:
        try:
            secret = password or password_of(encrypted=stored, env_name="")
        except PasswordUnavailable as exc:
            return ConnectionCheck(ok=False, code="password", message=exc.explained())
    config = SmtpConfig(
        host=clean["host"],
        port=clean["port"],
        starttls=clean["use_starttls"],
        tls=clean["use_tls"],
        username=clean["username"],
        password=secret,
        timeout=CHECK_TIMEOUT,
    )
    return smtp_check(config, sender=clean["sender"])


def outgoing_server_connection_test() -> ConnectionCheck:
    """Try the saved SMTP server as the outbox will (login and sender; no mail is sent)."""
    server = OutgoingServer.objects.filter(pk=1).first()
    if server is None or not server.host:
        return ConnectionCheck(
            ok=False,
            code="no_host",
            message=_(
                "No SMTP server is set here: mail goes out by the server's EMAIL_* settings."
            ),
        )
    try:
        secret = password_of(encrypted=server.password_encrypted, env_name="")
    except PasswordUnavailable as exc:
        return ConnectionCheck(ok=False, code="password", message=exc.explained())
    config = SmtpConfig(
        host=server.host,
        port=server.port,
        starttls=server.use_starttls,
        tls=server.use_tls,
        username=server.username,
        password=secret,
        timeout=CHECK_TIMEOUT,
    )
    return smtp_check(config, sender=server.sender)
