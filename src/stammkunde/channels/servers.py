"""Talking to mail servers: open IMAP and SMTP connections, and test them in words.

The IMAP poller (``imap``) and the outbox (``services.sending``) open their
connections here, and so does "test connection" on the settings page, so a test
tries exactly what polling and sending do. ``imap_check`` and ``smtp_check``
never raise for what a server answers: they return a ``ConnectionCheck`` whose
message tells the person at the form what was reached, or which step failed —
the name not found (DNS), the connection refused or timed out, the TLS
handshake, the login, the folder, the sender. Each connection notes the step it
is at (``_Progress``), so an error is reported for the step it happened in.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from stammkunde.core.crypto import SecretUnreadable, secret_decrypt

from .models import OutgoingServer

IMAP_TIMEOUT = 60  # the poller
CHECK_TIMEOUT = 10  # "test connection": the page waits for it (per network step)
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class PasswordUnavailable(Exception):
    """A stored password cannot be read: ``kind`` is ``env`` (variable unset) or ``key``."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(
            f"environment variable {detail} is not set"
            if kind == "env"
            else "the stored password cannot be decrypted (SECRET_KEY changed?); enter it again"
        )
        self.kind = kind
        self.detail = detail

    def explained(self) -> str:
        """The reason for the person at the settings page (translated)."""
        if self.kind == "env":
            return _(
                "The environment variable %(name)s holding the password is not set on the "
                "server; type the password in instead."
            ) % {"name": self.detail}
        return _(
            "The stored password can no longer be decrypted (the SECRET_KEY changed); "
            "type it in again."
        )


def password_of(*, encrypted: str, env_name: str) -> str:
    """The password to log in with: the stored one, else the environment variable's, else ''."""
    if encrypted:
        try:
            return secret_decrypt(encrypted)
        except SecretUnreadable as exc:
            raise PasswordUnavailable("key") from exc
    if env_name:
        value = os.environ.get(env_name, "")
        if not value:
            raise PasswordUnavailable("env", env_name)
        return value
    return ""


@dataclass(frozen=True)
class ConnectionCheck:
    """What a connection test found: ``code`` is stable (``ok``, ``dns``, ``refused``,
    ``timeout``, ``tls``, ``unreachable``, ``protocol``, ``starttls``, ``login``,
    ``auth_unsupported``, ``folder``, ``sender``, ``password``); ``message`` is for people."""

    ok: bool
    code: str
    message: str


def _failed(code: str, message: str) -> ConnectionCheck:
    return ConnectionCheck(ok=False, code=code, message=message)


class _Progress:
    """The step a connection is at: connect, tls, greeting, starttls, login, folder, sender."""

    def __init__(self) -> None:
        self.step = "connect"

    def label(self) -> str:
        return str(STEP_LABELS.get(self.step, self.step))


STEP_LABELS = {
    "connect": gettext_lazy("connecting"),
    "tls": gettext_lazy("TLS handshake"),
    "greeting": gettext_lazy("greeting"),
    "starttls": gettext_lazy("STARTTLS"),
    "login": gettext_lazy("login"),
    "folder": gettext_lazy("opening the folder"),
    "sender": gettext_lazy("checking the sender"),
}


def _reason(exc: BaseException) -> str:
    """A server's or the system's words for an error, without bytes reprs."""
    if isinstance(exc, smtplib.SMTPResponseException):
        said = exc.smtp_error
        text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
        return f"{exc.smtp_code} {text}".strip()
    if isinstance(exc, ssl.SSLError) and getattr(exc, "reason", None):
        return str(getattr(exc, "verify_message", None) or exc.reason).replace("_", " ").lower()
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    parts = [a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in exc.args]
    return " ".join(p for p in parts if p) or type(exc).__name__


def _network_failure(
    exc: BaseException, *, host: str, port: int, progress: _Progress, timeout: float, tls: bool
) -> ConnectionCheck:
    """Classify an error on the way to the server's greeting."""
    where = f"{host}:{port}"
    values = {"host": host, "where": where, "reason": _reason(exc), "seconds": int(timeout)}
    if isinstance(exc, socket.gaierror):
        return _failed(
            "dns",
            _(
                "The server %(host)s was not found (DNS): the name does not exist or the "
                "name service cannot be reached. Check the spelling of the host."
            )
            % values,
        )
    if progress.step == "connect":
        if isinstance(exc, ConnectionRefusedError):
            return _failed(
                "refused",
                _(
                    "%(where)s refused the connection: no mail server listens on this port. "
                    "Check host and port."
                )
                % values,
            )
        if isinstance(exc, TimeoutError):
            return _failed(
                "timeout",
                _(
                    "%(where)s did not answer within %(seconds)s seconds (timeout). Check host "
                    "and port, and whether a firewall blocks the connection."
                )
                % values,
            )
        return _failed("unreachable", _("Could not connect to %(where)s: %(reason)s.") % values)
    if progress.step in ("tls", "starttls"):
        if isinstance(exc, ssl.SSLCertVerificationError):
            message = _(
                "The TLS handshake with %(where)s failed: the server's certificate is not "
                "valid (%(reason)s)."
            )
        else:
            message = _(
                "The TLS handshake with %(where)s failed (%(reason)s). Does the TLS setting "
                "fit the port (IMAP: 993 with TLS, 143 without; SMTP: 465 with TLS from the "
                "start, 587 with STARTTLS)?"
            )
        return _failed("tls", message % values)
    # Connected, but the server's greeting did not come.
    if isinstance(exc, TimeoutError):
        hint = (
            ""
            if tls
            else _(" Perhaps the server expects TLS from the start on this port: turn TLS on.")
        )
        return _failed(
            "timeout",
            _("%(where)s accepted the connection but sent no greeting within %(seconds)s seconds.")
            % values
            + hint,
        )
    return _failed(
        "protocol",
        _("%(where)s accepted the connection but did not greet like a mail server (%(reason)s).")
        % values,
    )


def _context() -> ssl.SSLContext:
    return ssl.create_default_context()


# --------------------------------------------------------------------------- IMAP
class _IMAP(imaplib.IMAP4):
    """``imaplib.IMAP4`` (with TLS from the start when given a context) that notes its step."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        tls: ssl.SSLContext | None,
        progress: _Progress,
    ) -> None:
        self._tls = tls
        self._progress = progress
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = super()._create_socket(timeout)  # type: ignore[misc]  # private in typeshed
        if self._tls is not None:
            self._progress.step = "tls"
            sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        self._progress.step = "greeting"
        return sock


def imap_open(
    *,
    host: str,
    port: int,
    use_ssl: bool,
    timeout: float = IMAP_TIMEOUT,
    progress: _Progress | None = None,
) -> imaplib.IMAP4:
    """An IMAP connection that got the server's greeting (TLS from the start if ``use_ssl``)."""
    return _IMAP(
        host,
        port,
        timeout=timeout,
        tls=_context() if use_ssl else None,
        progress=progress or _Progress(),
    )


def imap_quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$')


def _folders(conn: imaplib.IMAP4) -> list[str]:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        status, lines = conn.list()
        if status == "OK":
            names = []
            for line in lines:
                found = _LIST_LINE.match(line) if isinstance(line, bytes) else None
                if found and b"\\noselect" not in found.group("flags").lower():
                    names.append(found.group("name").decode(errors="replace").strip('"'))
            return sorted(names)[:20]
    return []


def imap_check(
    *,
    host: str,
    port: int,
    use_ssl: bool,
    username: str,
    password: str,
    folder: str,
    timeout: float = CHECK_TIMEOUT,
) -> ConnectionCheck:
    """Connect, log in and open the folder as the poller does; say what worked or failed."""
    progress = _Progress()
    where = f"{host}:{port}"
    values: dict[str, Any] = {
        "where": where,
        "user": username,
        "folder": folder,
        "tls": _(" with TLS") if use_ssl else _(" without TLS"),
    }
    try:
        conn = imap_open(host=host, port=port, use_ssl=use_ssl, timeout=timeout, progress=progress)
    except (OSError, EOFError, imaplib.IMAP4.error) as exc:
        if isinstance(exc, imaplib.IMAP4.error) and not isinstance(exc, imaplib.IMAP4.abort):
            return _failed(
                "protocol",
                _("%(where)s answered, but not like an IMAP server (%(reason)s).")
                % {**values, "reason": _reason(exc)},
            )
        return _network_failure(
            exc, host=host, port=port, progress=progress, timeout=timeout, tls=use_ssl
        )
    try:
        progress.step = "login"
        try:
            conn.login(username, password)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            return _failed(
                "login",
                _(
                    "%(where)s refused the login as %(user)s: wrong user name or password "
                    "(the server said: %(reason)s)."
                )
                % {**values, "reason": _reason(exc)},
            )
        progress.step = "folder"
        status, data = conn.select(imap_quote(folder), readonly=True)
        if status != "OK":
            found = _folders(conn)
            return _failed(
                "folder",
                _(
                    "Logged in as %(user)s, but the folder %(folder)s does not exist. Folders "
                    "of this mailbox: %(folders)s."
                )
                % {**values, "folders": ", ".join(found) or "—"},
            )
        count = int(data[0]) if data and data[0] else 0
        return ConnectionCheck(
            ok=True,
            code="ok",
            message=ngettext(
                "Logged in as %(user)s at %(where)s%(tls)s, folder %(folder)s: %(count)d message.",
                "Logged in as %(user)s at %(where)s%(tls)s, folder %(folder)s: %(count)d messages.",
                count,
            )
            % {**values, "count": count},
        )
    except (OSError, EOFError, imaplib.IMAP4.abort) as exc:
        return _failed(
            "unreachable",
            _("%(where)s broke off the connection at this step: %(step)s (%(reason)s).")
            % {**values, "step": progress.label(), "reason": _reason(exc)},
        )
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError, EOFError):
            conn.logout()


# --------------------------------------------------------------------------- SMTP
@dataclass(frozen=True)
class SmtpConfig:
    """Where the outbox sends: from the settings page (``OutgoingServer``) or ``EMAIL_*``."""

    host: str
    port: int
    starttls: bool
    tls: bool  # TLS from the start (SMTPS)
    username: str
    password: str
    timeout: float = 30


class _SMTP(smtplib.SMTP):
    """``smtplib.SMTP`` (with TLS from the start when given a context) that notes its step."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        tls: ssl.SSLContext | None,
        progress: _Progress,
    ) -> None:
        self._tls = tls
        self._progress = progress
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, timeout)  # type: ignore[misc]  # private in typeshed
        if self._tls is not None:
            self._progress.step = "tls"
            sock = self._tls.wrap_socket(sock, server_hostname=host)
        self._progress.step = "greeting"
        return sock


def smtp_connect(config: SmtpConfig, progress: _Progress | None = None) -> smtplib.SMTP:
    """An SMTP connection that got the server's greeting (not yet STARTTLS nor logged in)."""
    return _SMTP(
        config.host,
        config.port,
        timeout=config.timeout,
        tls=_context() if config.tls else None,
        progress=progress or _Progress(),
    )


def smtp_open(config: SmtpConfig) -> smtplib.SMTP:
    """Connected, STARTTLS done and logged in as configured: ready for ``sendmail``."""
    smtp = smtp_connect(config)
    try:
        if config.starttls:
            smtp.starttls(context=_context())
        if config.username:
            smtp.login(config.username, config.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def outgoing_server() -> OutgoingServer | None:
    """The SMTP server set on the settings page, or None (then ``EMAIL_*`` apply)."""
    server = OutgoingServer.objects.filter(pk=1).first()
    return server if server is not None and server.host else None


def outgoing_config() -> SmtpConfig | None:
    """The settings page's SMTP server with its password, or None; ``PasswordUnavailable``."""
    server = outgoing_server()
    if server is None:
        return None
    return SmtpConfig(
        host=server.host,
        port=server.port,
        starttls=server.use_starttls,
        tls=server.use_tls,
        username=server.username,
        password=password_of(encrypted=server.password_encrypted, env_name=""),
        timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 30,
    )


def settings_config() -> SmtpConfig:
    """The SMTP server of Django's ``EMAIL_*`` settings."""
    return SmtpConfig(
        host=settings.EMAIL_HOST,
        port=settings.EMAIL_PORT,
        starttls=bool(getattr(settings, "EMAIL_USE_TLS", False)),
        tls=bool(getattr(settings, "EMAIL_USE_SSL", False)),
        username=getattr(settings, "EMAIL_HOST_USER", "") or "",
        password=getattr(settings, "EMAIL_HOST_PASSWORD", "") or "",
        timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 30,
    )


def default_sender() -> str:
    """The From of every mail we send: the settings page's sender, else DEFAULT_FROM_EMAIL."""
    server = outgoing_server()
    if server is not None and server.sender:
        return server.sender
    return str(settings.DEFAULT_FROM_EMAIL)


def mail_connection(*, fail_silently: bool = False) -> Any:
    """A Django mail connection to the server the outbox uses (for ``send_mail`` callers)."""
    from django.core.mail import get_connection

    try:
        config = outgoing_config()
    except PasswordUnavailable:
        config = None
    if config is None:
        return get_connection(fail_silently=fail_silently)
    return get_connection(
        backend=SMTP_BACKEND,
        fail_silently=fail_silently,
        host=config.host,
        port=config.port,
        username=config.username or None,
        password=config.password or None,
        use_tls=config.starttls,
        use_ssl=config.tls,
        timeout=config.timeout,
    )


def smtp_check(config: SmtpConfig, *, sender: str) -> ConnectionCheck:
    """Connect, STARTTLS, log in and offer the sender as the outbox does; send no mail."""
    progress = _Progress()
    where = f"{config.host}:{config.port}"
    envelope = parseaddr(sender)[1] or sender
    values: dict[str, Any] = {"where": where, "user": config.username, "sender": envelope}
    try:
        smtp = smtp_connect(config, progress)
    except smtplib.SMTPConnectError as exc:
        return _failed(
            "protocol",
            _("%(where)s answered, but refused to talk to us (%(reason)s).")
            % {**values, "reason": _reason(exc)},
        )
    except (OSError, smtplib.SMTPException) as exc:
        return _network_failure(
            exc,
            host=config.host,
            port=config.port,
            progress=progress,
            timeout=config.timeout,
            tls=config.tls,
        )
    try:
        smtp.ehlo_or_helo_if_needed()
        if config.starttls:
            progress.step = "starttls"
            try:
                smtp.starttls(context=_context())
            except smtplib.SMTPNotSupportedError:
                return _failed(
                    "starttls",
                    _(
                        "%(where)s does not offer STARTTLS. Turn STARTTLS off, or use TLS from "
                        "the start (usually port 465)."
                    )
                    % values,
                )
            except (ssl.SSLError, ConnectionResetError) as exc:
                return _network_failure(
                    exc,
                    host=config.host,
                    port=config.port,
                    progress=progress,
                    timeout=config.timeout,
                    tls=True,
                )
        if config.username:
            progress.step = "login"
            try:
                smtp.login(config.username, config.password)
            except smtplib.SMTPAuthenticationError as exc:
                return _failed(
                    "login",
                    _(
                        "%(where)s refused the login as %(user)s: wrong user name or password "
                        "(the server said: %(reason)s)."
                    )
                    % {**values, "reason": _reason(exc)},
                )
            except smtplib.SMTPNotSupportedError:
                return _failed(
                    "auth_unsupported",
                    _(
                        "%(where)s offers no login (SMTP AUTH) on this connection; many servers "
                        "offer it only after STARTTLS. Leave user and password empty for a "
                        "server that needs no login."
                    )
                    % values,
                )
            except smtplib.SMTPServerDisconnected:
                raise
            except smtplib.SMTPException as exc:
                return _failed(
                    "login",
                    _("%(where)s refused the login as %(user)s (%(reason)s).")
                    % {**values, "reason": _reason(exc)},
                )
        progress.step = "sender"
        code, said = smtp.mail(envelope)
        if code >= 400:
            return _failed(
                "sender",
                _("%(where)s does not accept mail from %(sender)s: %(reason)s.")
                % {**values, "reason": f"{code} {said.decode(errors='replace')}"},
            )
        smtp.rset()
        secured = _(" with TLS") if config.tls else _(" with STARTTLS") if config.starttls else ""
        if config.username:
            message = _(
                "Connected to %(where)s%(secured)s, logged in as %(user)s; the server accepts "
                "mail from %(sender)s."
            )
        else:
            message = _(
                "Connected to %(where)s%(secured)s without login; the server accepts mail "
                "from %(sender)s."
            )
        return ConnectionCheck(ok=True, code="ok", message=message % {**values, "secured": secured})
    except (OSError, smtplib.SMTPException) as exc:
        return _failed(
            "unreachable"
            if isinstance(exc, (OSError, smtplib.SMTPServerDisconnected))
            else "protocol",
            _("%(where)s broke off the connection at this step: %(step)s (%(reason)s).")
            % {**values, "step": progress.label(), "reason": _reason(exc)},
        )
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
