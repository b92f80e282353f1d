"""Settings and names the channels use cases share."""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Any

from django.conf import settings

from .. import parsing
from ..servers import default_sender

# The ticket number in a subject, ``[#2026-000123]``: replies thread by it.
TICKET_IN_SUBJECT = re.compile(r"\[#(\d{4}-\d{6,})\]")


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def mail_limits() -> parsing.Limits:
    """The parser limits, adjustable in settings (``CHANNELS_MAX_MESSAGE_BYTES``)."""
    return parsing.Limits(max_bytes=setting("CHANNELS_MAX_MESSAGE_BYTES", 25 * 1024 * 1024))


def sender_domain() -> str:
    """The domain of our Message-IDs: the sender's (settings page, else ``DEFAULT_FROM_EMAIL``)."""
    address = parseaddr(default_sender())[1]
    return address.rpartition("@")[2] or "stammkunde.invalid"
