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
    """Tests send the outbox explicitly (against a real SMTP server where it matters)."""
    settings.CHANNELS_SEND_IMMEDIATELY = False


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
