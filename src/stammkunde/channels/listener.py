"""An LMTP or SMTP server (aiosmtpd) that a mail server delivers into.

Each delivered message runs through ``mail_ingest`` in a worker thread (the
ORM is synchronous). The server answers 250 only after the message is stored
or quarantined, and 451 (try again later) when even that failed, so the
delivering MTA keeps the message in its queue — nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import close_old_connections

from .models import InboundMessage, Mailbox

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 30 * 1024 * 1024


def _mailbox_for(recipients: list[str]) -> Mailbox | None:
    addresses = [r.strip("<>").lower() for r in recipients]
    return Mailbox.objects.filter(address__in=addresses).order_by("id").first()


def deliver(raw: bytes, recipients: list[str], source: str) -> str:
    """Ingest one delivered message (runs in a thread); returns the SMTP status line."""
    from .services import mail_ingest

    close_old_connections()
    try:
        result = mail_ingest(raw=raw, mailbox=_mailbox_for(recipients), source=source)
    except Exception:  # noqa: BLE001 - the database is down: let the MTA retry
        log.exception("could not store delivered message")
        return "451 4.3.0 Temporary failure, please retry"
    finally:
        close_old_connections()
    return f"250 2.0.0 OK {result.result}"


class IngestHandler:
    def __init__(self, *, lmtp: bool) -> None:
        self.lmtp = lmtp
        self.source = InboundMessage.Source.LMTP if lmtp else InboundMessage.Source.SMTP

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        status = await asyncio.to_thread(deliver, raw, list(envelope.rcpt_tos), self.source)
        if self.lmtp:
            # LMTP answers once per recipient; the message is stored once for all.
            return "\r\n".join([status] * max(len(envelope.rcpt_tos), 1))
        return status


class _LMTPController(Controller):
    def factory(self) -> Any:
        return LMTP(self.handler, **self.SMTP_kwargs)


def listener_start(*, host: str = "127.0.0.1", port: int = 2424, lmtp: bool = True) -> Controller:
    """Start the listener in a background thread; ``.stop()`` it when done."""
    handler = IngestHandler(lmtp=lmtp)
    kwargs: dict[str, Any] = {"data_size_limit": MAX_MESSAGE_BYTES, "decode_data": False}
    cls = _LMTPController if lmtp else Controller
    controller = cls(handler, hostname=host, port=port, **kwargs)
    controller.start()
    return controller
