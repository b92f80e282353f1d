"""Turn the raw bytes of an RFC 5322 message into what the pipeline needs.

Django-free on purpose: the parser is a pure function of the bytes and a few
limits, so the corpus and the property tests run it without a database.

Real mail is broken in every way imaginable; the rules here are:

* never raise anything but ``MailRejected`` (a limit was exceeded, with a
  reason a person can read) — every other surprise becomes a *defect* note and
  the best text we can get;
* every string that leaves this module is valid Unicode without NUL
  characters (PostgreSQL refuses them), whatever the declared charset said;
* classification (normal, auto-reply, bounce) is decided here, from headers
  and the DSN, so that no reply and no ticket is ever triggered by a robot.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import html as html_lib
import quopri
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import nh3

NORMAL = "normal"
AUTO_REPLY = "auto_reply"
BOUNCE = "bounce"

FALLBACK_CHARSETS = ("utf-8", "windows-1252")


@dataclass(frozen=True)
class Limits:
    """What we accept; above a limit the message is quarantined with the reason."""

    max_bytes: int = 25 * 1024 * 1024
    max_header_bytes: int = 256 * 1024
    max_header_fields: int = 1000
    max_depth: int = 20
    max_parts: int = 500
    max_text_chars: int = 2_000_000


class MailRejected(Exception):
    """The message exceeds a limit or cannot be classified; ``reason`` is for the quarantine."""

    def __init__(self, reason: str, *, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass
class Attachment:
    filename: str
    content_type: str
    payload: bytes
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.payload)


@dataclass
class Bounce:
    recipient: str
    status: str  # the DSN status code, e.g. 5.1.1, or "" when unknown
    hard: bool
    diagnostic: str = ""
    original_message_id: str = ""


@dataclass
class ParsedMail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_address: str = ""
    from_name: str = ""
    reply_to: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    classification: str = NORMAL
    classification_reason: str = ""
    bounce: Bounce | None = None
    is_calendar: bool = False
    is_signed: bool = False
    is_encrypted: bool = False
    defects: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this message answers, the most specific first."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid and mid not in seen:
                seen.append(mid)
        return seen

    def content_key(self) -> str:
        """A digest of what the sender wrote, ignoring trace headers added in transit.

        Two deliveries of one message (two MX paths, an IMAP copy and an LMTP copy)
        differ in ``Received`` lines but share this key, which is what duplicate
        detection compares.
        """
        h = hashlib.sha256()
        for part in (
            self.message_id,
            self.from_address,
            self.subject,
            self.date.isoformat() if self.date else "",
            self.text,
            self.html,
        ):
            h.update(part.encode("utf-8", "replace"))
            h.update(b"\x00")
        for a in self.attachments:
            h.update(a.filename.encode("utf-8", "replace"))
            h.update(hashlib.sha256(a.payload).digest())
        return h.hexdigest()


# --------------------------------------------------------------------------- text helpers

_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Return ``value`` as storable Unicode: no lone surrogates, no NUL/control chars.

    The email package keeps undecodable header bytes as surrogate escapes; we
    turn them back into bytes and decode them through the fallback charsets.
    """
    if _SURROGATES.search(value):
        try:
            value = decode_bytes(value.encode("utf-8", "surrogateescape"), None)
        except UnicodeEncodeError:
            value = _SURROGATES.sub("\ufffd", value)
    return _CONTROL.sub("", value)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip('"').lower()
    # Common mislabels: Outlook's "unicode-1-1-utf-7", Hebrew "iso-8859-8-i".
    name = {"iso-8859-8-i": "iso-8859-8", "x-unknown": "", "unknown-8bit": ""}.get(name, name)
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode with the declared charset, then UTF-8, then windows-1252 (never fails)."""
    tried: list[str] = []
    for name in (_codec(declared), *FALLBACK_CHARSETS):
        if name is None or name in tried:
            continue
        tried.append(name)
        try:
            text = data.decode(name)
        except (UnicodeDecodeError, LookupError, ValueError):
            continue
        # A "successful" decode with a mislabelled charset still yields the
        # replacement character for garbage in some codecs; accept it anyway.
        return text
    return data.decode("windows-1252", errors="replace")


def _raw_header(msg: Message, name: str) -> str | None:
    """Return the header's unparsed value (first occurrence), or None."""
    for key, value in getattr(msg, "_headers", []):
        if key.lower() == name.lower():
            return value if isinstance(value, str) else str(value)
    return None


def _decode_words(raw: str) -> str:
    """Decode RFC 2047 words leniently (broken words stay as they were)."""
    try:
        parts = decode_header(raw)
    except Exception:  # noqa: BLE001 - the header is garbage; keep it as is
        return raw
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    return "".join(out)


def header_text(msg: Message, name: str, defects: list[str] | None = None) -> str:
    """Return a header as clean text, falling back to a lenient decode of the raw value."""
    raw = _raw_header(msg, name)
    if raw is None:
        return ""
    if _SURROGATES.search(raw):
        # Raw 8-bit bytes in a header: policy.default would turn them into U+FFFD.
        return " ".join(clean_text(_decode_words(clean_text(raw))).split())
    try:
        value = msg.get(name)
        text = str(value) if value is not None else ""
    except Exception:  # noqa: BLE001 - policy.default header parsing has edge-case bugs
        if defects is not None:
            defects.append(f"unparseable {name} header")
        text = _decode_words(raw)
    text = clean_text(text)
    if "=?" in text:  # words policy.default could not decode: try the lenient decoders
        text = clean_text(_lenient_words(_decode_words(text)))
    return " ".join(text.split())


_LOOSE_WORD = re.compile(r"=\?([\w.:-]+)(?:\*[\w-]+)?\?([qQbB])\?([^?\s]*)(?:\?=)?")


def _lenient_words(text: str) -> str:
    """Decode encoded words that lack their terminator or padding (seen in the wild)."""

    def one(match: re.Match[str]) -> str:
        charset, encoding, payload = match.groups()
        try:
            if encoding in "bB":
                data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=False)
            else:
                data = quopri.decodestring(
                    payload.replace("_", " ").encode("ascii", "replace"), header=True
                )
        except (ValueError, binascii.Error):
            return match.group(0)
        return decode_bytes(data, charset)

    return _LOOSE_WORD.sub(one, text)


_MSGID = re.compile(r"<([^<>\s]{1,900})>")


def normalize_message_id(value: str) -> str:
    """Return a Message-ID without angle brackets, lower-case domain, at most 250 chars."""
    value = value.strip().strip("<>").strip()
    if not value:
        return ""
    if "@" in value:
        local, _, domain = value.rpartition("@")
        value = f"{local}@{domain.lower()}"
    if len(value) > 250:
        value = "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
    return value


def message_ids(raw: str) -> list[str]:
    """Return the Message-IDs in a References/In-Reply-To value, in order."""
    raw = clean_text(raw)
    found = _MSGID.findall(raw)
    if not found and raw.strip() and " " not in raw.strip():
        found = [raw.strip()]  # some clients drop the angle brackets
    out: list[str] = []
    for mid in found:
        norm = normalize_message_id(mid)
        if norm and norm not in out:
            out.append(norm)
    return out[-100:]


def _address(msg: Message, name: str, defects: list[str]) -> tuple[str, str]:
    raw = _raw_header(msg, name)
    if raw is None:
        return "", ""
    try:
        header = msg.get(name)
        addresses = getattr(header, "addresses", ())
        for addr in addresses:
            if addr.addr_spec and "@" in addr.addr_spec:
                return clean_text(addr.display_name or ""), clean_text(addr.addr_spec)
    except Exception:  # noqa: BLE001
        defects.append(f"unparseable {name} header")
    display, addr = parseaddr(clean_text(_decode_words(raw)))
    if "@" in addr:
        return display, addr
    found = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", raw)
    return (display, found.group(0)) if found else ("", "")


def _address_list(msg: Message, name: str) -> list[str]:
    # Raw values: policy.default's address parser raises on some broken headers.
    values = [
        clean_text(_decode_words(v if isinstance(v, str) else str(v)))
        for k, v in getattr(msg, "_headers", [])
        if k.lower() == name.lower()
    ]
    try:
        pairs = getaddresses(values)
    except Exception:  # noqa: BLE001
        return []
    return [a.lower() for _, a in pairs if "@" in a][:100]


def _clean_address(address: str) -> str:
    address = address.strip().strip("<>").strip().lower()
    return address if re.fullmatch(r"[^@\s]+@[^@\s]+", address) else ""


# --------------------------------------------------------------------------- HTML

_BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/tr|/li|/h[1-6]|/table|/blockquote)\s*>")


def sanitize_html(raw: str) -> str:
    """Return HTML safe to show to agents: no scripts, styles, handlers or remote forms."""
    return nh3.clean(raw, link_rel="noopener noreferrer nofollow")


def html_to_text(raw: str) -> str:
    """A readable plain-text version of an HTML body (kept next to the sanitised HTML)."""
    marked = _BLOCK_END.sub("\n", raw)
    stripped = nh3.clean(marked, tags=set(), attributes={})
    text = html_lib.unescape(stripped)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


# --------------------------------------------------------------------------- classification

_AUTO_SUBJECT = re.compile(
    r"(?i)^\s*(auto(matic|matische)?[ -]?(reply|response|antwort|answer)|autoreply|"
    r"abwesenheit|out of (the )?office|ooo\b|vacation|urlaub|r[ée]ponse automatique|"
    r"respuesta autom[áa]tica|risposta automatica|auto:|abwesend|i am away|"
    r"ich bin (nicht im b[üu]ro|abwesend))"
)
_BOUNCE_SUBJECT = re.compile(
    r"(?i)(undeliver(ed|able)|delivery (status notification|failure|has failed)|"
    r"returned mail|mail delivery (failed|failure|subsystem)|unzustellbar|"
    r"nicht zustellbar|failure notice|delivery notification)"
)
_BOUNCE_SENDER = re.compile(r"(?i)^(mailer-daemon|postmaster|mail-daemon)@")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


def _dsn_bounce(msg: Message) -> Bounce | None:
    """Read the first failed/delayed recipient from a multipart/report DSN."""
    original_id = ""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "text/rfc822-headers"):
            original_id = original_id or _original_message_id(part)
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            blocks = []
        for block in blocks:
            if not isinstance(block, Message):
                continue
            action = header_text(block, "Action").lower()
            recipient = header_text(block, "Final-Recipient") or header_text(
                block, "Original-Recipient"
            )
            if not recipient or action not in ("failed", "delayed", ""):
                continue
            recipient = _clean_address(recipient.split(";")[-1])
            status = header_text(block, "Status")
            match = _STATUS.search(status)
            code = match.group(0) if match else ""
            hard = action == "failed" and code.startswith("5")
            return Bounce(
                recipient=recipient,
                status=code,
                hard=hard,
                diagnostic=header_text(block, "Diagnostic-Code")[:300],
                original_message_id=original_id,
            )
    return None


def _original_message_id(part: Message) -> str:
    try:
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            ids = message_ids(_raw_header(payload[0], "Message-ID") or "")
            return ids[0] if ids else ""
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            found = re.search(rb"(?im)^message-id:\s*(<[^>]+>)", data)
            if found:
                return normalize_message_id(found.group(1).decode("ascii", "replace"))
    except Exception:  # noqa: BLE001
        return ""
    return ""


def classify(msg: Message, parsed: ParsedMail) -> None:
    """Set the classification: bounces first (a DSN is also auto-submitted), then robots."""
    ctype = msg.get_content_type()
    report_type = str(msg.get_param("report-type", "") or "").lower()
    if ctype == "multipart/report" and report_type in ("delivery-status", ""):
        bounce = _dsn_bounce(msg)
        parsed.classification = BOUNCE
        parsed.classification_reason = "DSN multipart/report"
        parsed.bounce = bounce or Bounce(recipient="", status="", hard=False)
        return
    failed = header_text(msg, "X-Failed-Recipients")
    sender_is_daemon = bool(_BOUNCE_SENDER.match(parsed.from_address))
    if failed or (sender_is_daemon and _BOUNCE_SUBJECT.search(parsed.subject)):
        recipient = _clean_address(failed.split(",")[0]) if failed else ""
        if not recipient:
            found = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", parsed.text)
            recipient = found.group(0).lower() if found else ""
        match = _STATUS.search(parsed.text)
        code = match.group(0) if match else ""
        parsed.classification = BOUNCE
        parsed.classification_reason = (
            "X-Failed-Recipients" if failed else "bounce from mailer daemon"
        )
        # Without a DSN only an explicit 5.x.x status or Exim's header counts as hard.
        parsed.bounce = Bounce(
            recipient=recipient,
            status=code,
            hard=bool(failed) or code.startswith("5"),
            original_message_id=_original_message_id(msg),
        )
        return
    reasons = []
    auto_submitted = header_text(msg, "Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        reasons.append(f"Auto-Submitted: {auto_submitted[:40]}")
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply"):
        if _raw_header(msg, name) is not None:
            reasons.append(name)
    precedence = header_text(msg, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        reasons.append(f"Precedence: {precedence}")
    if header_text(msg, "X-Auto-Response-Suppress") and _AUTO_SUBJECT.search(parsed.subject):
        reasons.append("Outlook automatic reply")
    if _raw_header(msg, "X-Stammkunde-Ticket") is not None:
        reasons.append("our own outbound mail came back (loop)")
    if not reasons and _AUTO_SUBJECT.search(parsed.subject):
        reasons.append("vacation subject")
    if reasons:
        parsed.classification = AUTO_REPLY
        parsed.classification_reason = "; ".join(reasons)


# --------------------------------------------------------------------------- bodies

_FILENAME_BAD = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def _safe_filename(name: str, index: int, content_type: str) -> str:
    name = clean_text(name).strip()
    name = _FILENAME_BAD.sub("_", name).strip(". ")
    if not name:
        ext = {
            "application/ms-tnef": ".dat",
            "text/calendar": ".ics",
            "message/rfc822": ".eml",
            "application/pdf": ".pdf",
            "image/jpeg": ".jpg",
            "image/png": ".png",
        }.get(content_type, ".bin")
        name = f"attachment-{index}{ext}"
        if content_type == "application/ms-tnef":
            name = "winmail.dat"
    if len(name) > 180:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:170] + dot + ext[:9]) if dot and len(ext) <= 9 else name[:180]
    return name


def _filename(part: Message, defects: list[str]) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001 - broken RFC 2231 continuation
        defects.append("unparseable attachment file name")
        name = None
    if name is None:
        return ""
    name = str(name)
    if "=?" in name:
        name = _decode_words(name)
    return name


def _payload_bytes(part: Message, defects: list[str]) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        defects.append("undecodable part")
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: Message, defects: list[str]) -> str:
    data = _payload_bytes(part, defects)
    charset = None
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        defects.append("unreadable charset")
    return clean_text(decode_bytes(data, charset))


def _message_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        try:
            return payload[0].as_bytes(policy=policy.default.clone(linesep="\r\n"))
        except Exception:  # noqa: BLE001
            try:
                return payload[0].as_string(policy=policy.compat32).encode("utf-8", "replace")
            except Exception:  # noqa: BLE001
                return b""
    return _payload_bytes(part, [])


_CAL_SUMMARY = re.compile(r"(?im)^SUMMARY[^:]*:(.*)$")


class _Walker:
    def __init__(self, parsed: ParsedMail, limits: Limits) -> None:
        self.parsed = parsed
        self.limits = limits
        self.parts = 0
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.calendar_summary = ""

    def walk(self, part: Message, depth: int) -> None:
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise MailRejected(
                f"more than {self.limits.max_parts} MIME parts", code="too_many_parts"
            )
        if depth > self.limits.max_depth:
            raise MailRejected(
                f"MIME parts nested deeper than {self.limits.max_depth} levels", code="too_deep"
            )
        ctype = part.get_content_type()
        defects = self.parsed.defects
        try:
            disposition = (part.get_content_disposition() or "").lower()
        except Exception:  # noqa: BLE001
            disposition = ""
        if part.is_multipart():
            if ctype == "multipart/signed":
                self.parsed.is_signed = True
            if ctype == "multipart/encrypted":
                self.parsed.is_encrypted = True
            children = part.get_payload()
            if not isinstance(children, list):
                return
            if ctype == "multipart/alternative":
                self._alternative([c for c in children if isinstance(c, Message)], depth)
                return
            for child in children:
                if isinstance(child, Message):
                    self.walk(child, depth + 1)
            return
        if ctype in (
            "application/pkcs7-signature",
            "application/x-pkcs7-signature",
            "application/pgp-signature",
        ):
            self.parsed.is_signed = True
            return
        if ctype == "application/pgp-encrypted":
            return
        filename = _filename(part, defects)
        if ctype == "text/calendar":
            self.parsed.is_calendar = True
            text = _part_text(part, defects)
            found = _CAL_SUMMARY.search(text)
            if found and not self.calendar_summary:
                self.calendar_summary = found.group(1).strip()
            self._attach(filename or "invite.ics", ctype, text.encode("utf-8"), False)
            return
        is_attachment = disposition == "attachment" or bool(filename and ctype[:5] != "text/")
        if ctype in ("text/plain", "text/html") and not is_attachment:
            text = _part_text(part, defects)
            (self.texts if ctype == "text/plain" else self.htmls).append(text)
            return
        if ctype == "message/rfc822":
            self._attach(filename or "forwarded.eml", ctype, _message_bytes(part), False)
            return
        if ctype in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
            self.parsed.is_encrypted = True
        self._attach(filename, ctype, _payload_bytes(part, defects), disposition == "inline")

    def _alternative(self, children: list[Message], depth: int) -> None:
        """Of the alternatives keep one plain and one HTML version (the last of each wins)."""
        plain = [
            c for c in children if isinstance(c, Message) and c.get_content_type() == "text/plain"
        ]
        rich = [
            c for c in children if isinstance(c, Message) and c.get_content_type() == "text/html"
        ]
        others = [c for c in children if isinstance(c, Message) and c not in plain + rich]
        if plain:
            self.texts.append(_part_text(plain[-1], self.parsed.defects))
        if rich:
            self.htmls.append(_part_text(rich[-1], self.parsed.defects))
        for child in others:
            # e.g. multipart/related holding the HTML and its images, or a calendar
            self.walk(child, depth + 1)

    def _attach(self, filename: str, ctype: str, payload: bytes, inline: bool) -> None:
        index = len(self.parsed.attachments) + 1
        self.parsed.attachments.append(
            Attachment(
                filename=_safe_filename(filename, index, ctype),
                content_type=ctype[:100],
                payload=payload,
                inline=inline,
            )
        )


# --------------------------------------------------------------------------- entry point

_HEADER_END = re.compile(rb"\r?\n\r?\n")


def _check_limits(raw: bytes, limits: Limits) -> None:
    if len(raw) > limits.max_bytes:
        raise MailRejected(
            f"message is {len(raw) / 1_048_576:.1f} MB, the limit is "
            f"{limits.max_bytes / 1_048_576:.0f} MB",
            code="too_large",
        )
    end = _HEADER_END.search(raw, 0, limits.max_header_bytes + 4)
    header_len = end.start() if end else len(raw)
    if header_len > limits.max_header_bytes:
        raise MailRejected(
            f"header section is larger than {limits.max_header_bytes // 1024} KB",
            code="header_too_large",
        )
    fields = len(re.findall(rb"(?m)^[!-9;-~]+:", raw[:header_len]))
    if fields > limits.max_header_fields:
        raise MailRejected(
            f"{fields} header fields, the limit is {limits.max_header_fields}",
            code="too_many_headers",
        )
    if not raw.strip():
        raise MailRejected("the message is empty", code="empty")


def parse_message(raw: bytes, *, limits: Limits | None = None) -> ParsedMail:
    """Parse ``raw`` into a ParsedMail; raise MailRejected only for exceeded limits."""
    limits = limits or Limits()
    _check_limits(raw, limits)
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except RecursionError as exc:
        raise MailRejected("MIME structure nested too deeply to parse", code="too_deep") from exc
    assert isinstance(msg, EmailMessage)
    parsed = ParsedMail()
    defects = parsed.defects
    parsed.defects.extend(type(d).__name__ for d in msg.defects[:20])

    ids = message_ids(_raw_header(msg, "Message-ID") or "")
    parsed.message_id = ids[0] if ids else ""
    parsed.in_reply_to = message_ids(clean_text(_raw_header(msg, "In-Reply-To") or ""))
    parsed.references = message_ids(clean_text(_raw_header(msg, "References") or ""))
    parsed.subject = header_text(msg, "Subject", defects)[:500]
    name, address = _address(msg, "From", defects)
    if not address:
        name, address = _address(msg, "Sender", defects)
    if not address:
        name, address = _address(msg, "Return-Path", defects)
    parsed.from_name = " ".join(name.split())[:200]
    parsed.from_address = _clean_address(address)
    _, reply_to = _address(msg, "Reply-To", defects)
    parsed.reply_to = _clean_address(reply_to)
    parsed.to = _address_list(msg, "To")
    parsed.cc = _address_list(msg, "Cc")
    parsed.date = _date(msg, defects)

    walker = _Walker(parsed, limits)
    try:
        walker.walk(msg, 0)
    except RecursionError as exc:
        raise MailRejected("MIME structure nested too deeply", code="too_deep") from exc
    except MailRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - a stdlib parser bug: keep the body as text
        defects.append(f"structure unreadable ({type(exc).__name__})")
        end = _HEADER_END.search(raw)
        walker.texts = [clean_text(decode_bytes(raw[end.end() :] if end else raw, None))]
        walker.htmls = []
    text = "\n\n".join(t for t in walker.texts if t.strip())
    html = "\n".join(walker.htmls)
    if len(text) + len(html) > limits.max_text_chars:
        raise MailRejected(
            f"text body longer than {limits.max_text_chars:,} characters", code="body_too_large"
        )
    if html.strip():
        parsed.html = sanitize_html(html)
        if not text.strip():
            text = html_to_text(html)
    if not text.strip() and walker.calendar_summary:
        text = f"Calendar invitation: {walker.calendar_summary}"
    if not text.strip() and parsed.is_encrypted:
        text = "(encrypted message, see attachment)"
    parsed.text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    try:
        classify(msg, parsed)
    except Exception as exc:  # noqa: BLE001 - may be a robot: never a ticket, a person decides
        raise MailRejected(
            f"could not tell whether a person or a robot wrote it ({type(exc).__name__})",
            code="unclassifiable",
        ) from exc
    return parsed


def _date(msg: Message, defects: list[str]) -> datetime | None:
    raw = _raw_header(msg, "Date")
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(clean_text(raw).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("unparseable Date header")
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not 1980 <= value.year <= 2200:
        defects.append("implausible Date header")
        return None
    return value
