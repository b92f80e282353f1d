"""What every importer shares: field specs, cell parsers, rows, outcomes, the base class.

An importer gets batches of parsed rows (``Row``) and returns what happened
(``BatchOutcome``). It applies the rules of the owning app's single write
(e.g. ``commerce.services.order_create``: EUR only, total = sum of the lines,
a return never exceeds what was bought) to a whole batch, with one query per
lookup instead of one per row, through the app's selectors; then it hands
the checked batch to the app's bulk service (``customers_bulk_upsert``,
``products_bulk_upsert``, ``orders_bulk_create``, ``returns_bulk_create``,
``subscriptions_bulk_upsert``), which writes it set-based and runs the same
rules as the single write (timeline, first purchase, audit, hooks).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from stammkunde.customers.normalize import normalize_email, normalize_phone
from stammkunde.customers.selectors import customer_ids_by

from ..values import (
    CellError,
    bool_value,
    date_value,
    datetime_value,
    decimal_value,
    int_value,
    text,
)

CENT = Decimal("0.01")


# --- fields -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """A target field: how to read a cell, whether it is required, header aliases."""

    name: str
    parse: Callable[[Any, bool], Any]
    required: bool = False
    aliases: tuple[str, ...] = ()


def _text(max_length: int) -> Callable[[Any, bool], str]:
    def parse(raw: Any, _comma: bool) -> str:
        value = text(raw)
        if len(value) > max_length:
            raise CellError(_("longer than %(max)d characters") % {"max": max_length})
        return value

    return parse


def _choice(choices: Sequence[str], synonyms: dict[str, str] | None = None) -> Any:
    allowed = {c.lower(): c for c in choices}
    extra = {k.lower(): v for k, v in (synonyms or {}).items()}

    def parse(raw: Any, _comma: bool) -> str:
        word = text(raw).lower()
        if word in allowed:
            return allowed[word]
        if word in extra:
            return extra[word]
        raise CellError(
            _("“%(value)s” is not one of %(choices)s")
            % {"value": text(raw), "choices": ", ".join(choices)}
        )

    return parse


def _decimal(raw: Any, comma: bool) -> Decimal:
    return decimal_value(raw, decimal_comma=comma)


# Amounts below this fit the money columns (12 digits, 2 after the point); a bigger
# one would end the whole batch in a database error instead of failing its row.
MONEY_LIMIT = Decimal(10) ** 10
QUANTITY_LIMIT = 1_000_000  # per line; the column holds 2**31, a line total must fit too


def _amount_below(limit: Decimal) -> Callable[[Any, bool], Decimal]:
    def parse(raw: Any, comma: bool) -> Decimal:
        amount = decimal_value(raw, decimal_comma=comma).quantize(CENT)
        if amount < 0:
            raise CellError(_("must not be negative"))
        if amount >= limit:
            raise CellError(
                _("must be less than %(limit)s EUR")
                % {"limit": formats.number_format(limit, 0, force_grouping=True)}
            )
        return amount

    return parse


_money = _amount_below(MONEY_LIMIT)


def _quantity(raw: Any, comma: bool) -> int:
    value = int_value(raw, decimal_comma=comma)
    if value < 1:
        raise CellError(_("must be at least 1"))
    if value > QUANTITY_LIMIT:
        raise CellError(
            _("must be at most %(max)s")
            % {"max": formats.number_format(QUANTITY_LIMIT, force_grouping=True)}
        )
    return value


def _email(raw: Any, _comma: bool) -> str:
    try:
        return normalize_email(text(raw))
    except ValidationError as exc:
        raise CellError(_("“%(value)s” is not an email address") % {"value": text(raw)}) from exc


def _phone(raw: Any, _comma: bool) -> str:
    try:
        return normalize_phone(text(raw))
    except ValidationError as exc:
        raise CellError(" ".join(exc.messages)) from exc


def _date(raw: Any, _comma: bool) -> Any:
    return date_value(raw)


def _datetime(raw: Any, _comma: bool) -> datetime:
    return datetime_value(raw)


def _bool(raw: Any, _comma: bool) -> bool:
    return bool_value(raw)


def normalize_header(name: str) -> str:
    """Return a header reduced to ascii letters and digits (``E-Mail`` → ``email``)."""
    lowered = name.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        lowered = lowered.replace(umlaut, plain)
    folded = unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore")
    return re.sub(r"[^a-z0-9]", "", folded.decode().lower())


# --- rows and outcomes -----------------------------------------------------------------


@dataclass(slots=True)
class RowIssue:
    line: int
    column: str
    message: str


@dataclass(slots=True)
class Row:
    """One parsed row: its line, the raw cells (for the report) and the typed values."""

    line: int
    raw: dict[str, Any]
    values: dict[str, Any]


@dataclass
class BatchOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[Row, RowIssue]] = field(default_factory=list)
    # (event, payload item) for webhooks: one event per batch with a list.
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def fail(self, row: Row, column: str, message: str) -> None:
        self.failed.append((row, RowIssue(row.line, column, message)))


@dataclass
class Context:
    """What every batch of one run shares."""

    job_id: int | None
    actor_id: int | None
    columns: dict[str, str]  # target field -> file column, for error messages
    now: datetime = field(default_factory=timezone.now)
    cache: dict[str, Any] = field(default_factory=dict)

    def column(self, target: str) -> str:
        return self.columns.get(target, target)


class Importer:
    """Base: ``fields`` describe a row, ``process`` checks and writes one batch."""

    kind = ""
    fields: tuple[FieldSpec, ...] = ()
    # Targets of which at least one must be present (e.g. customer by id or number).
    one_of: tuple[tuple[str, ...], ...] = ()
    group_by: str | None = None  # rows with equal values of this field form one record
    batch_size = 5000  # rows per batch (``import_file(batch_size=...)`` overrides it)
    # With ``prepare`` (reads), ``check`` (rules, no database) and ``write_checked``
    # (writes), the runner checks the next batch while the previous one is written.
    pipelined = False

    def __init__(self, context: Context) -> None:
        self.ctx = context

    def process(self, rows: list[Row], *, write: bool) -> BatchOutcome:
        raise NotImplementedError

    # The three steps of ``process`` for a ``pipelined`` importer.
    def prepare(self, rows: list[Row]) -> Any:
        raise NotImplementedError

    def check(self, rows: list[Row], found: Any, previous: Any) -> Any:
        raise NotImplementedError

    def write_checked(self, checked: Any, *, write: bool) -> BatchOutcome:
        raise NotImplementedError

    def finish(self, *, write: bool) -> None:
        """Run once after the last batch (in its transaction): set-based work for the whole file."""


def _collapse(rows: list[Row], key: str) -> dict[Any, list[Row]]:
    """Group rows by key, keeping the order of first appearance."""
    groups: dict[Any, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.values[key], []).append(row)
    return groups


def _merged(rows: list[Row]) -> dict[str, Any]:
    """Later rows with the same key override earlier ones, field by field."""
    values: dict[str, Any] = {}
    for row in rows:
        values.update({k: v for k, v in row.values.items() if v is not None})
    return values


# --- customers named by orders and subscriptions ---------------------------------------


CUSTOMER_CACHE_MAX = 500_000  # ids kept between batches of one run (about 100 MB at most)


def _customer_ids(
    rows: list[Row], cache: dict[str, dict[str, int]] | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    """Return customer ids by external id and by number for the references in ``rows``.

    With ``cache`` (shared by the batches of one run) customers found before
    are not asked for again; the returned maps may hold more than ``rows`` name.
    """
    found: list[dict[str, int]] = []
    for key, name in (("external_id", "customer_external_id"), ("number", "customer_number")):
        known: dict[str, int] = {} if cache is None else cache.setdefault(key, {})
        missing = [
            k for k in {r.values[name] for r in rows if r.values.get(name)} if k not in known
        ]
        if missing:
            if len(known) + len(missing) > CUSTOMER_CACHE_MAX:
                known.clear()
            known.update(customer_ids_by(key=key, keys=missing))
        found.append(known)
    return found[0], found[1]


def _customer_of(
    values: dict[str, Any], by_ext: dict[str, int], by_num: dict[str, int]
) -> int | None:
    if values.get("customer_external_id"):
        return by_ext.get(values["customer_external_id"])
    return by_num.get(values.get("customer_number") or "")


def _customer_column(ctx: Context, values: dict[str, Any]) -> str:
    return ctx.column(
        "customer_external_id" if values.get("customer_external_id") else "customer_number"
    )


_CUSTOMER_REF = (
    FieldSpec(
        "customer_external_id",
        _text(100),
        False,
        ("customerid", "kundenid", "kundenextid", "customerexternalid"),
    ),
    FieldSpec("customer_number", _text(20), False, ("kundennummer", "kundennr", "customernumber")),
)
