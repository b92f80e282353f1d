"""CSV parsing for contact volumes and rosters: every row checked, errors with line numbers.

Pure parsing, no database writes: the services call these functions, and
store nothing unless the whole file is valid.  The delimiter is detected
(``,`` ``;`` or tab — German spreadsheets write ``;``); line numbers count the
header as line 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from stammkunde.core.errors import ApplicationError

from .models import Channel

LOCAL_TZ = ZoneInfo("Europe/Berlin")
MAX_REPORTED_ERRORS = 50
VOLUME_REQUIRED = ("queue", "channel", "interval_start", "contacts")
VOLUME_OPTIONAL = (
    "interval_minutes",
    "handled_seconds",
    "partner",
    "answered_in_sl",
    "resolved_first_contact",
    "reopened",
    "csat_sum",
    "csat_count",
)
ROSTER_REQUIRED = ("queue", "date", "interval_start", "agents")
ROSTER_OPTIONAL = ("interval_minutes",)


class RowError(ValueError):
    """One bad cell: ``field`` and a message for people."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class VolumeRow:
    line: int
    queue: str
    channel: str
    interval_start: datetime
    interval_minutes: int
    contacts: int
    handled_seconds: int
    partner: str
    answered_in_sl: int | None
    resolved_first_contact: int | None
    reopened: int | None
    csat_sum: int | None
    csat_count: int | None


@dataclass(frozen=True)
class RosterRow:
    line: int
    queue: str
    date: date
    interval_start: time
    interval_minutes: int
    agents: int


def _text(content: bytes | str) -> str:
    if isinstance(content, bytes):
        try:
            return content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ApplicationError(
                "The file is not UTF-8 encoded text.",
                code="encoding",
                field_errors={"file": ["not UTF-8 encoded text"]},
            ) from exc
    return content.removeprefix("\ufeff")


def _records(
    content: bytes | str, required: tuple[str, ...], optional: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    text = _text(content)
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise ApplicationError(
            f"Line 1: missing column(s) {', '.join(missing)}",
            code="header",
            field_errors={"line 1": [f"missing column(s): {', '.join(missing)}"]},
        )
    unknown = [h for h in header if h and h not in required + optional]
    if unknown:
        raise ApplicationError(
            f"Line 1: unknown column(s) {', '.join(unknown)}",
            code="header",
            field_errors={"line 1": [f"unknown column(s): {', '.join(unknown)}"]},
        )
    reader.fieldnames = header
    for record in reader:
        if None in record:
            yield reader.line_num, {"__extra__": "x"}
            continue
        values = {k: (v or "").strip() for k, v in record.items()}
        if not any(values.values()):
            continue  # blank line
        yield reader.line_num, values


def _integer(raw: str, field: str, *, optional: bool = False) -> int | None:
    if raw == "":
        if optional:
            return None
        raise RowError(field, "is required")
    try:
        number = Decimal(raw.replace(",", "."))
    except InvalidOperation as exc:
        raise RowError(field, f"{raw!r} is not a number") from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise RowError(field, f"{raw!r} is not a whole number")
    if number < 0:
        raise RowError(field, "must not be negative")
    return int(number)


def _interval_minutes(raw: str) -> int:
    minutes = 15 if raw == "" else _integer(raw, "interval_minutes")
    if minutes not in (15, 30, 60):
        raise RowError("interval_minutes", "must be 15, 30 or 60")
    return int(minutes)


def _aligned(moment: time, minutes: int) -> None:
    if moment.second or moment.microsecond or (moment.hour * 60 + moment.minute) % minutes:
        raise RowError(
            "interval_start", f"{moment:%H:%M:%S} does not start a {minutes}-minute interval"
        )


def _aware(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise RowError(
            "interval_start", f"{raw!r} is not a date and time like 2026-03-02T08:00"
        ) from exc
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment


def _collect(
    records: Iterator[tuple[int, dict[str, str]]],
    parse: Callable[[int, dict[str, str]], Any],
    key: Callable[[Any], Any],
) -> list[Any]:
    rows: list[Any] = []
    errors: dict[str, list[str]] = {}
    seen: dict[Any, int] = {}
    count_errors = 0
    for line, values in records:
        try:
            if "__extra__" in values:
                raise RowError("row", "has more cells than the header")
            row = parse(line, values)
            first = seen.setdefault(key(row), line)
            if first != line:
                raise RowError("row", f"duplicates line {first}")
        except RowError as exc:
            count_errors += 1
            if count_errors <= MAX_REPORTED_ERRORS:
                errors.setdefault(f"line {line}", []).append(f"{exc.field}: {exc.message}")
            continue
        rows.append(row)
    if errors:
        more = count_errors - MAX_REPORTED_ERRORS
        summary = "; ".join(f"{k}: {' '.join(v)}" for k, v in list(errors.items())[:5])
        if more > 0:
            errors["more"] = [f"{more} further error(s) not shown"]
        raise ApplicationError(
            f"{count_errors} bad row(s), nothing imported. {summary}",
            code="import",
            field_errors=errors,
        )
    if not rows:
        raise ApplicationError(
            "The file has no data rows.", code="empty", field_errors={"file": ["no data rows"]}
        )
    return rows


def volume_rows_parse(content: bytes | str, *, partners: Mapping[str, int]) -> list[VolumeRow]:
    """Parse a contact-volume CSV; raise ApplicationError listing every bad line.

    ``partners`` maps known partner names to ids; an unknown name is an error.
    """

    def parse(line: int, v: dict[str, str]) -> VolumeRow:
        queue = v.get("queue", "")
        if not queue or len(queue) > 100:
            raise RowError("queue", "is required (at most 100 characters)")
        channel = v.get("channel", "").lower()
        if channel not in Channel.values:
            raise RowError("channel", f"must be one of {', '.join(Channel.values)}")
        minutes = _interval_minutes(v.get("interval_minutes", ""))
        start = _aware(v.get("interval_start", ""))
        _aligned(start.astimezone(LOCAL_TZ).timetz(), minutes)
        contacts = int(_integer(v.get("contacts", ""), "contacts") or 0)
        handled = _integer(v.get("handled_seconds", "") or "0", "handled_seconds") or 0
        if handled and not contacts:
            raise RowError("handled_seconds", "handling time without contacts")
        partner = v.get("partner", "")
        if partner and partner not in partners:
            raise RowError("partner", f"unknown service partner {partner!r}")
        counts = {
            f: _integer(v.get(f, ""), f, optional=True)
            for f in ("answered_in_sl", "resolved_first_contact", "reopened", "csat_count")
        }
        for field, value in counts.items():
            if value is not None and value > contacts:
                raise RowError(field, "must not exceed contacts")
        csat_sum = _integer(v.get("csat_sum", ""), "csat_sum", optional=True)
        csat_count = counts["csat_count"]
        if (csat_sum is None) != (csat_count is None):
            raise RowError("csat_sum", "give csat_sum and csat_count together")
        if (
            csat_sum is not None
            and csat_count is not None
            and not (csat_count <= csat_sum <= 5 * csat_count)
        ):
            raise RowError("csat_sum", "must lie between csat_count and 5 × csat_count")
        return VolumeRow(
            line=line,
            queue=queue,
            channel=channel,
            interval_start=start,
            interval_minutes=minutes,
            contacts=contacts,
            handled_seconds=int(handled),
            partner=partner,
            answered_in_sl=counts["answered_in_sl"],
            resolved_first_contact=counts["resolved_first_contact"],
            reopened=counts["reopened"],
            csat_sum=csat_sum,
            csat_count=csat_count,
        )

    return _collect(
        _records(content, VOLUME_REQUIRED, VOLUME_OPTIONAL),
        parse,
        key=lambda r: (r.queue, r.channel, r.interval_start, r.partner),
    )


def roster_rows_parse(content: bytes | str) -> list[RosterRow]:
    """Parse a roster CSV (queue, date, interval_start, agents[, interval_minutes])."""

    def parse(line: int, v: dict[str, str]) -> RosterRow:
        queue = v.get("queue", "")
        if not queue or len(queue) > 100:
            raise RowError("queue", "is required (at most 100 characters)")
        try:
            day = date.fromisoformat(v.get("date", ""))
        except ValueError as exc:
            raise RowError("date", f"{v.get('date', '')!r} is not a date like 2026-03-02") from exc
        try:
            start = time.fromisoformat(v.get("interval_start", ""))
        except ValueError as exc:
            raise RowError("interval_start", "is not a time like 08:15") from exc
        minutes = _interval_minutes(v.get("interval_minutes", ""))
        _aligned(start, minutes)
        agents = int(_integer(v.get("agents", ""), "agents") or 0)
        return RosterRow(
            line=line,
            queue=queue,
            date=day,
            interval_start=start,
            interval_minutes=minutes,
            agents=agents,
        )

    return _collect(
        _records(content, ROSTER_REQUIRED, ROSTER_OPTIONAL),
        parse,
        key=lambda r: (r.queue, r.date, r.interval_start),
    )
