"""IMAP polling: fetch new messages of each mailbox exactly once, across restarts.

A mailbox remembers UIDVALIDITY and the last UID stored. Only UIDs above it are
fetched, in ascending order, and ``last_uid`` moves on after each message is
stored or quarantined — a crash in between re-fetches that one message, which
the (mailbox, UIDVALIDITY, UID) key recognises as a duplicate. When the server
reports a new UIDVALIDITY (the folder was rebuilt), the whole folder is read
again and content digests catch the messages already stored.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from .models import InboundMessage, Mailbox
from .servers import IMAP_TIMEOUT, PasswordUnavailable, imap_open, imap_quote, password_of

log = logging.getLogger(__name__)
FETCH_BATCH = 50


class PollError(Exception):
    pass


@dataclass
class PollReport:
    mailbox: str
    fetched: int = 0
    results: dict[str, int] = field(default_factory=dict)
    rescanned: bool = False
    error: str = ""


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """Log in with the password typed on the settings page, else the environment variable's."""
    try:
        password = password_of(encrypted=mailbox.password_encrypted, env_name=mailbox.password_env)
    except PasswordUnavailable as exc:
        raise PollError(str(exc)) from exc
    conn = imap_open(
        host=mailbox.host, port=mailbox.port, use_ssl=mailbox.use_ssl, timeout=IMAP_TIMEOUT
    )
    try:
        conn.login(mailbox.username, password)
    except BaseException:
        with contextlib.suppress(imaplib.IMAP4.error, OSError, EOFError):
            conn.shutdown()
        raise
    return conn


def _select(conn: imaplib.IMAP4, folder: str) -> int:
    status, _data = conn.select(imap_quote(folder), readonly=True)
    if status != "OK":
        raise PollError(f"cannot select folder {folder!r}")
    values = conn.response("UIDVALIDITY")[1]
    if not values or values[0] is None:
        raise PollError("server sent no UIDVALIDITY")
    return int(values[0])


def _uids_after(conn: imaplib.IMAP4, last_uid: int) -> list[int]:
    status, data = conn.uid("SEARCH", f"UID {last_uid + 1}:*")
    if status != "OK":
        raise PollError("UID SEARCH failed")
    uids = sorted({int(x) for x in (data[0] or b"").split()})
    # "n:*" always matches the highest UID, even when it is below n.
    return [u for u in uids if u > last_uid]


_UID_IN_FETCH = re.compile(rb"UID (\d+)")


def _fetch(conn: imaplib.IMAP4, uids: list[int]) -> dict[int, bytes]:
    status, data = conn.uid("FETCH", ",".join(str(u) for u in uids), "(UID BODY.PEEK[])")
    if status != "OK":
        raise PollError("UID FETCH failed")
    out: dict[int, bytes] = {}
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2:
            found = _UID_IN_FETCH.search(item[0])
            if found:
                out[int(found.group(1))] = item[1]
    return out


def mailbox_poll(*, mailbox: Mailbox) -> PollReport:
    """Fetch and ingest every new message of one mailbox; safe to run again at any time."""
    from .services import mail_ingest

    report = PollReport(mailbox=mailbox.name)
    conn = _connect(mailbox)
    try:
        uidvalidity = _select(conn, mailbox.folder)
        if mailbox.uidvalidity != uidvalidity:
            report.rescanned = mailbox.uidvalidity is not None
            with transaction.atomic():
                Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=uidvalidity, last_uid=0)
            mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0
        uids = _uids_after(conn, mailbox.last_uid)
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            messages = _fetch(conn, batch)
            for uid in batch:
                if uid not in messages:
                    continue  # expunged meanwhile
                result = mail_ingest(
                    raw=messages[uid],
                    mailbox=mailbox,
                    source_uid=uid,
                    uidvalidity=uidvalidity,
                    source=InboundMessage.Source.IMAP,
                )
                report.fetched += 1
                report.results[result.result] = report.results.get(result.result, 0) + 1
                Mailbox.objects.filter(pk=mailbox.pk, last_uid__lt=uid).update(last_uid=uid)
                mailbox.last_uid = uid
        Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error="")
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            conn.logout()
    return report


def mailbox_poll_all() -> dict[str, int]:
    """Poll every active mailbox with a host; a failing one is recorded and skipped."""
    totals: dict[str, int] = {}
    for mailbox in Mailbox.objects.filter(active=True).exclude(host=""):
        try:
            report = mailbox_poll(mailbox=mailbox)
        except (PollError, imaplib.IMAP4.error, OSError) as exc:
            log.warning("polling %s failed: %s", mailbox, exc)
            Mailbox.objects.filter(pk=mailbox.pk).update(last_error=str(exc)[:500])
            totals["errors"] = totals.get("errors", 0) + 1
            continue
        for key, n in report.results.items():
            totals[key] = totals.get(key, 0) + n
    return totals
