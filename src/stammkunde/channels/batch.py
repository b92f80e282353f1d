"""Ingest many message files at once, optionally in parallel worker processes.

Order matters for two things, and the plan keeps both:

* a reply must come after the message it answers: messages with threading
  hints (In-Reply-To, References, a ticket number in the subject) run last,
  one after the other in file order;
* two mails of one unknown sender must not create two prospects: the other
  messages are grouped by sender, and one worker handles a group in order.

Duplicates across workers are still safe: the unique content key decides.
Use ``jobs > 1`` on PostgreSQL; SQLite has one writer at a time anyway.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from email import policy
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from .services import TICKET_IN_SUBJECT

Row = dict[str, Any]


def _hints(raw: bytes) -> tuple[str, bool]:
    """(sender, has threading hints) from the headers only; errors count as hinted."""
    try:
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw[: 256 * 1024])
        sender = parseaddr(str(headers.get("From", "")))[1].lower()
        hinted = bool(
            headers.get("In-Reply-To")
            or headers.get("References")
            or TICKET_IN_SUBJECT.search(str(headers.get("Subject", "")))
        )
        return sender, hinted
    except Exception:  # noqa: BLE001 - let the real pipeline decide, in order
        return "", True


def ingest_one(name: str, mailbox_id: int | None) -> Row:
    """Ingest one file (or '-' for stdin); a row for the JSON output."""
    import sys

    from stammkunde.service.models import Ticket

    from .models import Mailbox
    from .services import mail_ingest

    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        return {"file": name, "result": "error", "ticket": None, "reason": str(exc)}
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first() if mailbox_id else None
    try:
        result = mail_ingest(raw=raw, mailbox=mailbox)
    except Exception as exc:  # noqa: BLE001 - database down: report, the caller exits non-zero
        return {
            "file": name,
            "result": "error",
            "ticket": None,
            "reason": f"{type(exc).__name__}: {exc}",
        }
    number = (
        Ticket.objects.filter(pk=result.ticket_id).values_list("number", flat=True).first()
        if result.ticket_id
        else None
    )
    return {
        "file": name,
        "result": result.result,
        "ticket": number,
        "reason": result.reason,
        "inbound": result.inbound_id,
    }


def _ingest_group(names: list[str], mailbox_id: int | None) -> list[Row]:
    """Run in a worker process, which keeps its own database connection between groups."""
    return [ingest_one(name, mailbox_id) for name in names]


def ingest_files(
    names: list[str], *, mailbox_id: int | None = None, jobs: int = 1, emit: Callable[[Row], None]
) -> int:
    """Ingest files, calling ``emit`` with one row per file; return the number of errors."""
    errors = 0

    def out(row: Row) -> None:
        nonlocal errors
        errors += row["result"] == "error"
        emit(row)

    if jobs <= 1 or len(names) < 2 or "-" in names:
        for name in names:
            out(ingest_one(name, mailbox_id))
        return errors
    groups: dict[str, list[str]] = {}
    ordered: list[str] = []
    for name in names:
        try:
            sender, hinted = _hints(Path(name).read_bytes())
        except OSError:
            sender, hinted = "", True
        if hinted:
            ordered.append(name)
        else:
            groups.setdefault(sender, []).append(name)
    from django.db import connections

    connections.close_all()  # workers are forked: none may inherit an open connection
    context = multiprocessing.get_context("fork")
    # One bucket per worker, senders spread by size (largest first onto the lightest bucket).
    buckets: list[list[str]] = [[] for _ in range(jobs)]
    for group in sorted(groups.values(), key=len, reverse=True):
        min(buckets, key=len).extend(group)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(_ingest_group, b, mailbox_id) for b in buckets if b]
        for future in futures:
            for row in future.result():
                out(row)
    for name in ordered:
        out(ingest_one(name, mailbox_id))
    return errors
