"""Helpers for channel tests: a queue for new tickets and a builder for raw mails."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
from django.utils import timezone

from stammkunde.service.models import Queue


@pytest.fixture
def queue(db: Any) -> Queue:
    return Queue.objects.create(name="Kundenservice")


@pytest.fixture(autouse=True)
def _no_immediate_send(settings: Any) -> None:
    """Tests send the outbox explicitly (against a real SMTP server where it matters).

    The SMTP backend as in production: the outbox then talks SMTP itself (a
    test memory backend would take the mail without any network).
    """
    settings.CHANNELS_SEND_IMMEDIATELY = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def mail(
    *,
    sender: str = "Erika Muster <erika@example.de>",
    to: str = "service@stammkunde.example",
    subject: str = "Bremse quietscht",
    body: str = "Hallo, meine Bremse quietscht.",
    message_id: str | None = "<m1@example.de>",
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A plain text mail as a client would send it."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SinkHandler:
    """A real SMTP server's handler: keeps what it received, or refuses with ``reject``."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.reject: str | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.reject:
            return self.reject
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK queued"


@pytest.fixture
def smtp_server(settings: Any) -> Any:
    """An aiosmtpd SMTP server on a free port that the outbox sends to."""
    from aiosmtpd.controller import Controller

    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_USE_TLS = False
    handler.port = port  # type: ignore[attr-defined]
    yield handler
    controller.stop()
