"""One importer per kind: which fields a row has, how a batch is checked and written.

An importer gets batches of parsed rows (``Row``) and returns what happened
(``BatchOutcome``). The checks are those of the services in ``customers`` and
``commerce`` (e.g. ``order_create``: EUR only, total = sum of the lines, a
return never exceeds what was bought), applied to a whole batch with one query
per lookup instead of one per row; writes are set-based (``sql.upsert``,
``core.bulk.bulk_insert``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from stammkunde.commerce.models import (
    Order,
    OrderLine,
    Product,
    ProductCategory,
    Return,
    Subscription,
)
from stammkunde.core.bulk import bulk_insert
from stammkunde.core.models import AuditEntry
from stammkunde.core.sequences import counter_next
from stammkunde.customers.models import (
    Address,
    Channel,
    Customer,
    EmailAddress,
    Interaction,
    PhoneNumber,
)
from stammkunde.customers.normalize import normalize_email, normalize_phone

from . import sql
from .values import (
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


# The timeline row an imported order or return adds, in COPY/bulk_insert column order.
INTERACTION_COLUMNS = (
    "customer_id",
    "occurred_at",
    "channel",
    "direction",
    "kind",
    "summary",
    "source_type_id",
    "source_id",
    "actor_id",
)


def _text(max_length: int) -> Callable[[Any, bool], str]:
    def parse(raw: Any, _: bool) -> str:
        value = text(raw)
        if len(value) > max_length:
            raise CellError(f"longer than {max_length} characters")
        return value

    return parse


def _choice(choices: Sequence[str], synonyms: dict[str, str] | None = None) -> Any:
    allowed = {c.lower(): c for c in choices}
    extra = {k.lower(): v for k, v in (synonyms or {}).items()}

    def parse(raw: Any, _: bool) -> str:
        word = text(raw).lower()
        if word in allowed:
            return allowed[word]
        if word in extra:
            return extra[word]
        raise CellError(f"“{text(raw)}” is not one of {', '.join(choices)}")

    return parse


def _decimal(raw: Any, comma: bool) -> Decimal:
    return decimal_value(raw, decimal_comma=comma)


def _money(raw: Any, comma: bool) -> Decimal:
    amount = decimal_value(raw, decimal_comma=comma).quantize(CENT)
    if amount < 0:
        raise CellError("must not be negative")
    return amount


def _quantity(raw: Any, comma: bool) -> int:
    value = int_value(raw, decimal_comma=comma)
    if value < 1:
        raise CellError("must be at least 1")
    return value


def _email(raw: Any, _: bool) -> str:
    try:
        return normalize_email(text(raw))
    except ValidationError as exc:
        raise CellError(f"“{text(raw)}” is not an email address") from exc


def _phone(raw: Any, _: bool) -> str:
    try:
        return normalize_phone(text(raw))
    except ValidationError as exc:
        raise CellError(" ".join(exc.messages)) from exc


def _date(raw: Any, _: bool) -> Any:
    return date_value(raw)


def _datetime(raw: Any, _: bool) -> datetime:
    return datetime_value(raw)


def _bool(raw: Any, _: bool) -> bool:
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

    def _audit(self, action: str, object_type: str, ids: list[tuple[int, int | None]]) -> None:
        bulk_insert(
            AuditEntry,
            ["at", "actor_id", "action", "object_type", "object_id", "customer_id", "changes"],
            (
                (
                    self.ctx.now,
                    self.ctx.actor_id,
                    action,
                    object_type,
                    str(pk),
                    cid,
                    {"import_job": self.ctx.job_id},
                )
                for pk, cid in ids
            ),
        )


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


# --- customers -------------------------------------------------------------------------

CUSTOMER_FIELDS = (
    "kind",
    "salutation",
    "first_name",
    "last_name",
    "company_name",
    "birthday",
    "preferred_language",
    "preferred_channel",
)


class CustomerImporter(Importer):
    """Customers with email, phone and address; upsert by ``external_id``.

    A blank cell never overwrites stored data; new contact data is added, not
    replaced. New customers get numbers from one reserved block.
    """

    kind = "customers"
    fields = (
        FieldSpec(
            "external_id",
            _text(100),
            True,
            ("id", "customerid", "kundenid", "kundennr", "kundennummer", "customer"),
        ),
        FieldSpec(
            "kind",
            _choice(
                ["person", "company"],
                {"privat": "person", "firma": "company", "b2b": "company", "b2c": "person"},
            ),
            False,
            ("typ", "art"),
        ),
        FieldSpec("salutation", _text(20), False, ("anrede", "title")),
        FieldSpec("first_name", _text(100), False, ("vorname", "firstname", "givenname")),
        FieldSpec(
            "last_name",
            _text(100),
            False,
            ("nachname", "name", "lastname", "surname", "familyname"),
        ),
        FieldSpec(
            "company_name", _text(200), False, ("firma", "company", "firmenname", "unternehmen")
        ),
        FieldSpec("email", _email, False, ("email", "emailadresse", "mail")),
        FieldSpec(
            "phone", _phone, False, ("telefon", "tel", "phone", "mobil", "handy", "telefonnummer")
        ),
        FieldSpec(
            "street",
            _text(200),
            False,
            ("strasse", "str", "address", "adresse", "strassehausnummer"),
        ),
        FieldSpec(
            "postal_code", _text(12), False, ("plz", "zip", "postleitzahl", "postcode", "zipcode")
        ),
        FieldSpec("city", _text(100), False, ("ort", "stadt", "town")),
        FieldSpec("country", _text(2), False, ("land", "countrycode")),
        FieldSpec(
            "birthday", _date, False, ("geburtstag", "geburtsdatum", "dateofbirth", "birthdate")
        ),
        FieldSpec(
            "preferred_language",
            _choice(
                ["de", "en"], {"deutsch": "de", "englisch": "en", "english": "en", "german": "de"}
            ),
            False,
            ("sprache", "language"),
        ),
        FieldSpec(
            "preferred_channel", _choice([c.value for c in Channel]), False, ("kanal", "channel")
        ),
        FieldSpec(
            "created_at",
            _datetime,
            False,
            ("angelegt", "erstelltam", "kundeseit", "created", "registeredat"),
        ),
    )

    def process(self, rows: list[Row], *, write: bool) -> BatchOutcome:
        out = BatchOutcome()
        groups = _collapse(rows, "external_id")
        stored = sql.values_by_key(
            Customer, key="external_id", keys=list(groups), fields=["number", *CUSTOMER_FIELDS]
        )
        known = _known_contact_data([b["id"] for b in stored.values()])
        upserts: list[tuple[Any, ...]] = []
        contact: list[tuple[str, dict[str, Any]]] = []
        new_keys: list[str] = []
        for key, group in groups.items():
            values = _merged(group)
            before = stored.get(key)
            record = {f: (before or {}).get(f) for f in CUSTOMER_FIELDS}
            if before is None:
                record.update(
                    kind="person",
                    salutation="",
                    first_name="",
                    last_name="",
                    company_name="",
                    preferred_language="de",
                    preferred_channel=Channel.EMAIL,
                )
            record.update({f: values[f] for f in CUSTOMER_FIELDS if f in values})
            if (
                before is None
                and "kind" not in values
                and record["company_name"]
                and not (record["first_name"] or record["last_name"])
            ):
                record["kind"] = Customer.Kind.COMPANY
            problem = _customer_problem(record)
            if problem:
                for row in group:
                    out.fail(row, self.ctx.column(problem[0]), problem[1])
                continue
            changed = before is None or any(record[f] != before[f] for f in CUSTOMER_FIELDS)
            cid = before["id"] if before else None
            has_contact = any(
                values.get(f) and (cid, *(values.get(x) or "" for x in fields)) not in known
                for f, fields in _CONTACT_KEYS
            )
            if before is None:
                new_keys.append(key)
                out.created += 1
                out.updated += len(group) - 1
            elif changed or has_contact:
                out.updated += len(group)
            else:
                out.unchanged += len(group)
                continue
            record["created_at"] = values.get("created_at") or self.ctx.now
            upserts.append((key, before["number"] if before else None, record))
            contact.append((key, values))
        if not write or not upserts:
            return out
        numbers = iter(
            range(counter_next("customer", count=len(new_keys)) if new_keys else 0, 10**12)
        )
        rows_out = []
        for key, number, r in upserts:
            search = " ".join(p for p in (r["last_name"], r["first_name"], r["company_name"]) if p)
            rows_out.append(
                (
                    key,
                    number or f"K{next(numbers):07d}",
                    r["kind"],
                    r["salutation"],
                    r["first_name"],
                    r["last_name"],
                    r["company_name"],
                    search.lower()[:400],
                    r["birthday"],
                    r["preferred_language"],
                    r["preferred_channel"],
                    "",
                    r["created_at"],
                    1,
                )
            )
        ids = sql.upsert(
            Customer,
            key="external_id",
            columns=[
                "external_id",
                "number",
                "kind",
                "salutation",
                "first_name",
                "last_name",
                "company_name",
                "search_name",
                "birthday",
                "preferred_language",
                "preferred_channel",
                "value_class",
                "created_at",
                "version",
            ],
            rows=rows_out,
            update=[
                "kind",
                "salutation",
                "first_name",
                "last_name",
                "company_name",
                "search_name",
                "birthday",
                "preferred_language",
                "preferred_channel",
            ],
            bump="version",
        )
        _contact_data_add(ids, contact)
        new = set(new_keys)
        self._audit("create", "customers.Customer", [(ids[k], ids[k]) for k in new_keys])
        self._audit(
            "update",
            "customers.Customer",
            [(ids[k], ids[k]) for k, _, _ in upserts if k not in new],
        )
        out.events["customer.created"] = [
            {"id": ids[k], "external_id": k, "source": "import"} for k in new_keys
        ]
        return out


_CONTACT_KEYS = (
    ("email", ("email",)),
    ("phone", ("phone",)),
    ("street", ("street", "postal_code")),
)


def _known_contact_data(ids: list[int]) -> set[tuple[Any, ...]]:
    """Return (customer id, value...) of stored emails, phones and addresses."""
    known: set[tuple[Any, ...]] = set()
    for start in range(0, len(ids), sql.SQLITE_CHUNK):
        chunk = ids[start : start + sql.SQLITE_CHUNK]
        known.update(
            EmailAddress.objects.filter(customer_id__in=chunk).values_list("customer_id", "address")
        )
        known.update(
            PhoneNumber.objects.filter(customer_id__in=chunk).values_list("customer_id", "number")
        )
        known.update(
            Address.objects.filter(customer_id__in=chunk).values_list(
                "customer_id", "street", "postal_code"
            )
        )
    return known


def _customer_problem(record: dict[str, Any]) -> tuple[str, str] | None:
    if record["kind"] == Customer.Kind.COMPANY and not record["company_name"]:
        return "company_name", "a company needs a company name"
    if record["kind"] == Customer.Kind.PERSON and not (record["first_name"] or record["last_name"]):
        return "last_name", "a person needs a first or last name"
    return None


def _contact_data_add(ids: dict[Any, int], contact: list[tuple[str, dict[str, Any]]]) -> None:
    """Add emails, phones and addresses that the customers do not have yet."""
    qn = connection.ops.quote_name
    emails = [(ids[k], v["email"]) for k, v in contact if v.get("email")]
    phones = [(ids[k], v["phone"]) for k, v in contact if v.get("phone")]
    addresses = [
        (
            ids[k],
            v["street"],
            v.get("postal_code") or "",
            v.get("city") or "",
            (v.get("country") or "DE").upper(),
        )
        for k, v in contact
        if v.get("street")
    ]
    e, p, a = (qn(m._meta.db_table) for m in (EmailAddress, PhoneNumber, Address))
    if connection.vendor == "postgresql":
        _contact_data_add_set_based(e, p, a, emails, phones, addresses)
        return
    # "WHERE true" lets SQLite parse INSERT ... SELECT ... ON CONFLICT.
    sql.executemany(
        f"INSERT INTO {e} (customer_id, address, is_primary, undeliverable_reason) "
        f"SELECT %s, %s, NOT EXISTS (SELECT 1 FROM {e} x WHERE x.customer_id = %s), '' "
        f"WHERE true ON CONFLICT (customer_id, address) DO NOTHING",
        [(cid, addr, cid) for cid, addr in emails],
    )
    sql.executemany(
        f"INSERT INTO {p} (customer_id, number, kind, is_primary) "
        f"SELECT %s, %s, 'mobile', NOT EXISTS (SELECT 1 FROM {p} x WHERE x.customer_id = %s) "
        f"WHERE true ON CONFLICT (customer_id, number) DO NOTHING",
        [(cid, num, cid) for cid, num in phones],
    )
    sql.executemany(
        f"INSERT INTO {a} (customer_id, kind, street, postal_code, city, country) "
        f"SELECT %s, 'billing', %s, %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM {a} x "
        f"WHERE x.customer_id = %s AND x.street = %s AND x.postal_code = %s)",
        [(cid, s, z, c, n, cid, s, z) for cid, s, z, c, n in addresses],
    )


def _contact_data_add_set_based(
    e: str,
    p: str,
    a: str,
    emails: list[tuple[int, str]],
    phones: list[tuple[int, str]],
    addresses: list[tuple[int, str, str, str, str]],
) -> None:
    """The same three inserts as one statement each over arrays (PostgreSQL)."""
    with connection.cursor() as cursor:
        if emails:
            cursor.execute(
                f"INSERT INTO {e} (customer_id, address, is_primary, undeliverable_reason) "
                f"SELECT v.cid, v.val, "
                f"NOT EXISTS (SELECT 1 FROM {e} x WHERE x.customer_id = v.cid), "
                f"'' FROM unnest(%s::bigint[], %s::text[]) AS v(cid, val) "
                f"ON CONFLICT (customer_id, address) DO NOTHING",
                [[c for c, _ in emails], [v for _, v in emails]],
            )
        if phones:
            cursor.execute(
                f"INSERT INTO {p} (customer_id, number, kind, is_primary) "
                f"SELECT v.cid, v.val, 'mobile', "
                f"NOT EXISTS (SELECT 1 FROM {p} x WHERE x.customer_id = v.cid) "
                f"FROM unnest(%s::bigint[], %s::text[]) AS v(cid, val) "
                f"ON CONFLICT (customer_id, number) DO NOTHING",
                [[c for c, _ in phones], [v for _, v in phones]],
            )
        if addresses:
            columns = [list(col) for col in zip(*addresses, strict=True)]
            cursor.execute(
                f"INSERT INTO {a} (customer_id, kind, street, postal_code, city, country) "
                f"SELECT v.cid, 'billing', v.street, v.zip, v.city, v.country "
                f"FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[]) "
                f"AS v(cid, street, zip, city, country) WHERE NOT EXISTS (SELECT 1 FROM {a} x "
                f"WHERE x.customer_id = v.cid AND x.street = v.street AND x.postal_code = v.zip)",
                columns,
            )


# --- products --------------------------------------------------------------------------


class ProductImporter(Importer):
    """Products upserted by SKU; categories are created on first use."""

    kind = "products"
    fields = (
        FieldSpec(
            "sku", _text(64), True, ("artikelnummer", "artnr", "artikelnr", "productid", "ean")
        ),
        FieldSpec(
            "name", _text(200), True, ("bezeichnung", "artikel", "produkt", "title", "artikelname")
        ),
        FieldSpec("category", _text(100), True, ("kategorie", "warengruppe", "productcategory")),
        FieldSpec("price", _money, True, ("preis", "vkpreis", "verkaufspreis", "unitprice")),
        FieldSpec("margin_rate", _decimal, False, ("marge", "margin")),
        FieldSpec("is_service", _bool, False, ("dienstleistung", "service")),
        FieldSpec("active", _bool, False, ("aktiv",)),
    )

    def process(self, rows: list[Row], *, write: bool) -> BatchOutcome:
        out = BatchOutcome()
        groups = _collapse(rows, "sku")
        fields = ["name", "category__name", "price", "margin_rate", "is_service", "active"]
        stored = sql.values_by_key(Product, key="sku", keys=list(groups), fields=fields)
        records = []
        for sku, group in groups.items():
            values = _merged(group)
            margin = values.get("margin_rate")
            if margin is not None and not (0 <= margin <= 1):
                for row in group:
                    out.fail(row, self.ctx.column("margin_rate"), "must be between 0 and 1")
                continue
            before = stored.get(sku)
            record = {
                "name": values["name"],
                "category__name": values["category"],
                "price": values["price"],
                "margin_rate": margin
                if margin is not None
                else (before or {}).get("margin_rate", Decimal("0.300")),
                "is_service": values.get("is_service", (before or {}).get("is_service", False)),
                "active": values.get("active", (before or {}).get("active", True)),
            }
            if before is None:
                out.created += 1
                out.updated += len(group) - 1
            elif any(record[f] != before[f] for f in fields):
                out.updated += len(group)
            else:
                out.unchanged += len(group)
                continue
            records.append((sku, record))
        if not write or not records:
            return out
        names = sorted({r["category__name"] for _, r in records})
        ProductCategory.objects.bulk_create(
            [ProductCategory(name=n) for n in names], ignore_conflicts=True
        )
        categories = dict(ProductCategory.objects.filter(name__in=names).values_list("name", "id"))
        sql.upsert(
            Product,
            key="sku",
            columns=["sku", "name", "category", "price", "margin_rate", "is_service", "active"],
            rows=[
                (
                    sku,
                    r["name"],
                    categories[r["category__name"]],
                    r["price"],
                    r["margin_rate"],
                    r["is_service"],
                    r["active"],
                )
                for sku, r in records
            ],
            update=["name", "category", "price", "margin_rate", "is_service", "active"],
        )
        return out


# --- shared lookups --------------------------------------------------------------------


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
            known.update(sql.ids_by_key(Customer, key=key, keys=missing))
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


# --- orders ----------------------------------------------------------------------------

_ORDER_CHANNEL_TO_CONTACT: dict[str, str] = {
    Order.Channel.SHOP: Channel.WEB,
    Order.Channel.POS: Channel.SHOP,
    Order.Channel.PHONE: Channel.PHONE,
    Order.Channel.ERP: Channel.WEB,
}


@dataclass
class _OrderLookups:
    """What ``OrderImporter.check`` needs from the database for one batch."""

    by_ext: dict[str, int]
    by_num: dict[str, int]
    products: dict[str, tuple[int, Decimal]]
    stored: dict[str, dict[str, Any]]
    numbers_taken: set[str]
    ids: list[int]  # drawn for the new orders (PostgreSQL; empty on SQLite)


@dataclass(slots=True)
class _OrderPlan:
    key: str
    rows: list[Row]
    number: str
    customer_id: int
    ordered_at: datetime
    channel: str
    status: str
    lines: list[tuple[int, int, Decimal, Decimal]]  # product id, quantity, unit price, total
    total: Decimal
    id: int = 0  # known at check time on PostgreSQL, after the write on SQLite


@dataclass
class _OrderCheck:
    """A checked batch: its outcome, the orders to create or update, the customers it names."""

    outcome: BatchOutcome
    new: list[_OrderPlan]
    changed: list[_OrderPlan]
    customers: set[int]
    # COPY text of the new orders, their lines and timeline entries (PostgreSQL).
    copy: tuple[str, str, str] | None = None

    def as_stored(self) -> dict[str, dict[str, Any]]:
        """The new orders as the next batch's lookup will find them once written."""
        return {
            p.key: {"number": p.number, "status": p.status, "channel": p.channel} for p in self.new
        }


_ORDER_COLUMNS = (
    "external_id",
    "number",
    "customer",
    "ordered_at",
    "channel",
    "status",
    "currency",
    "total",
)
_LINE_COLUMNS = ("order_id", "product_id", "quantity", "unit_price", "line_total")


_SAME_IN_EVERY_LINE = ("customer_external_id", "customer_number", "ordered_at")


class OrderImporter(Importer):
    """Orders, one row per order line; rows with the same ``external_id`` form one order.

    The rules of ``commerce.services.order_create`` hold: EUR only, a known
    customer and known SKUs, quantity >= 1, unit price defaults to the product
    price, the total is the sum of the line totals (a ``total`` column must
    agree). An order already stored keeps its customer, date and lines; only
    ``status`` and ``channel`` are taken from the file. Lines of one order must
    be on consecutive rows (every shop export writes them so).

    On PostgreSQL new orders are written by COPY with ids drawn beforehand
    (``sql.ids_reserve``), so the COPY text of orders, lines and timeline is
    built in the check, beside the previous batch's write. If another writer
    stores one of the batch's orders in between, the unique key refuses the
    batch (reported; importing the file again picks those rows up as stored).
    The customers' first purchase dates are set once, at the end (``finish``).
    """

    kind = "orders"
    group_by = "external_id"
    pipelined = True
    # Per batch the referenced products and customers are locked once: bigger batches
    # lock fewer rows in all (the same products appear in every batch).
    batch_size = 20_000
    fields = (
        FieldSpec(
            "external_id",
            _text(100),
            True,
            (
                "orderid",
                "bestellid",
                "bestellnummer",
                "auftragsnummer",
                "ordernumber",
                "belegnummer",
                "order",
            ),
        ),
        FieldSpec("number", _text(40), False, ("nummer", "belegnr", "number")),
        *_CUSTOMER_REF,
        FieldSpec(
            "ordered_at",
            _datetime,
            True,
            ("bestelldatum", "datum", "date", "orderdate", "belegdatum", "orderedat"),
        ),
        FieldSpec(
            "channel",
            _choice(
                [c.value for c in Order.Channel],
                {
                    "online": "shop",
                    "webshop": "shop",
                    "filiale": "pos",
                    "laden": "pos",
                    "kasse": "pos",
                    "telefon": "phone",
                },
            ),
            False,
            ("kanal", "vertriebskanal"),
        ),
        FieldSpec(
            "status",
            _choice(
                [s.value for s in Order.Status],
                {
                    "bezahlt": "paid",
                    "storniert": "cancelled",
                    "storno": "cancelled",
                    "canceled": "cancelled",
                },
            ),
            False,
            (),
        ),
        FieldSpec("currency", _text(3), False, ("waehrung", "currencycode")),
        FieldSpec(
            "sku", _text(64), True, ("artikelnummer", "artnr", "artikelnr", "productsku", "product")
        ),
        FieldSpec("quantity", _quantity, True, ("menge", "anzahl", "qty", "stueck")),
        FieldSpec(
            "unit_price",
            _money,
            False,
            ("einzelpreis", "preis", "price", "unitprice", "stueckpreis"),
        ),
        FieldSpec(
            "total", _money, False, ("gesamt", "summe", "ordertotal", "gesamtbetrag", "betrag")
        ),
    )
    one_of = (("customer_external_id", "customer_number"),)

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self._customers: set[int] = set()  # named by the file's valid orders

    def _products(self, skus: set[str]) -> dict[str, tuple[int, Decimal]]:
        cache: dict[str, tuple[int, Decimal]] = self.ctx.cache.setdefault("products", {})
        missing = [s for s in skus if s not in cache]
        for start in range(0, len(missing), sql.SQLITE_CHUNK):
            chunk = missing[start : start + sql.SQLITE_CHUNK]
            for pid, sku, price in Product.objects.filter(sku__in=chunk).values_list(
                "id", "sku", "price"
            ):
                cache[sku] = (pid, price)
        return cache

    def _plan(
        self,
        key: str,
        group: list[Row],
        by_ext: dict[str, int],
        by_num: dict[str, int],
        products: dict[str, tuple[int, Decimal]],
        out: BatchOutcome,
    ) -> _OrderPlan | None:
        head = group[0].values
        problems: list[tuple[Row, str, str]] = []
        customer_id = _customer_of(head, by_ext, by_num)
        if customer_id is None:
            problems.append((group[0], _customer_column(self.ctx, head), "unknown customer"))
        for row in group[1:]:
            for f in _SAME_IN_EVERY_LINE:
                value = row.values.get(f)
                if value is not None and value != head.get(f):
                    problems.append(
                        (
                            row,
                            self.ctx.column(f),
                            f"differs from line {group[0].line} of the same order",
                        )
                    )
        currency = (head.get("currency") or "EUR").upper()
        if currency != "EUR":
            problems.append((group[0], self.ctx.column("currency"), "only EUR is supported"))
        lines = []
        total = Decimal("0.00")
        given = None
        for row in group:
            values = row.values
            product = products.get(values["sku"])
            if given is None:
                given = values.get("total")
            if product is None:
                problems.append((row, self.ctx.column("sku"), f"unknown product “{values['sku']}”"))
                continue
            price = values.get("unit_price")
            price = product[1] if price is None else price
            quantity = values["quantity"]
            line_total = (price * quantity).quantize(CENT)
            total += line_total
            lines.append((product[0], quantity, price, line_total))
        if not problems and given is not None and given != total:
            problems.append(
                (
                    group[0],
                    self.ctx.column("total"),
                    f"{given} is not the sum of the lines ({total})",
                )
            )
        if problems:
            failed_rows = {id(r) for r, _, _ in problems}
            for row, column, message in problems:
                out.fail(row, column, message)
            for row in group:
                if id(row) not in failed_rows:
                    out.fail(row, "", f"another line of order {key} is invalid")
            return None
        return _OrderPlan(
            key=key,
            rows=group,
            number=head.get("number") or key,
            customer_id=customer_id or 0,
            ordered_at=head["ordered_at"],
            channel=head.get("channel") or Order.Channel.SHOP,
            status=head.get("status") or Order.Status.PAID,
            lines=lines,
            total=total,
        )

    def process(self, rows: list[Row], *, write: bool) -> BatchOutcome:
        return self.write_checked(self.check(rows, self.prepare(rows), None), write=write)

    def prepare(self, rows: list[Row]) -> _OrderLookups:
        """Read what checking the batch needs: customers, products, stored orders, numbers."""
        heads = {r.values["external_id"]: r.values for r in reversed(rows)}
        by_ext, by_num = _customer_ids(rows, self.ctx.cache.setdefault("customers", {}))
        self._order_type()
        stored = sql.values_by_key(
            Order, key="external_id", keys=list(heads), fields=["number", "status", "channel"]
        )
        numbers_taken = sql.values_by_key(
            Order,
            key="number",
            keys=[v.get("number") or k for k, v in heads.items() if k not in stored],
            fields=["external_id"],
        )
        return _OrderLookups(
            by_ext=by_ext,
            by_num=by_num,
            products=dict(self._products({r.values["sku"] for r in rows})),
            stored=stored,
            numbers_taken=set(numbers_taken),
            ids=(
                sql.ids_reserve(Order, len(heads) - len(stored))
                if connection.vendor == "postgresql"
                else []
            ),
        )

    def check(
        self, rows: list[Row], found: _OrderLookups, previous: _OrderCheck | None
    ) -> _OrderCheck:
        """Apply the rules to a batch; no database access (runs beside the previous write).

        ``previous`` is the check of the batch before, whose new orders may not
        be written yet when ``found`` was read: they count as stored.
        """
        out = BatchOutcome()
        groups = _collapse(rows, "external_id")
        stored = found.stored
        numbers_taken = found.numbers_taken
        if previous is not None:
            stored = {**previous.as_stored(), **stored}
            numbers_taken = numbers_taken | {p.number for p in previous.new}
        plans = [
            p
            for k, g in groups.items()
            if (p := self._plan(k, g, found.by_ext, found.by_num, found.products, out))
        ]
        new: list[_OrderPlan] = []
        changed: list[_OrderPlan] = []
        numbers_in_batch: set[str] = set()
        for plan in plans:
            before = stored.get(plan.key)
            if before is None:
                if plan.number in numbers_taken or plan.number in numbers_in_batch:
                    for row in plan.rows:
                        out.fail(
                            row,
                            self.ctx.column("number"),
                            f"order number {plan.number} belongs to another order",
                        )
                    continue
                numbers_in_batch.add(plan.number)
                new.append(plan)
                out.created += len(plan.rows)
            elif before["status"] != plan.status or before["channel"] != plan.channel:
                changed.append(plan)
                out.updated += len(plan.rows)
            else:
                out.unchanged += len(plan.rows)
        checked = _OrderCheck(out, new, changed, {p.customer_id for p in plans})
        if found.ids:
            # ``prepare`` drew one id per order not stored: never fewer than the new ones.
            # (Without ids, on SQLite, ``_write`` upserts and reads the ids back.)
            if len(found.ids) < len(new):
                raise RuntimeError(f"{len(new)} new orders but {len(found.ids)} ids drawn")
            for plan, order_id in zip(new, found.ids, strict=False):
                plan.id = order_id
            checked.copy = self._copy_texts(new)
        return checked

    def _copy_texts(self, new: list[_OrderPlan]) -> tuple[str, str, str]:
        """The new orders, their lines and their timeline entries in COPY text format."""
        escape = sql.copy_escape
        order_type = self._order_type()
        actor = "\\N" if self.ctx.actor_id is None else str(self.ctx.actor_id)
        web = str(Channel.WEB.value)
        channels = {k: str(v) for k, v in _ORDER_CHANNEL_TO_CONTACT.items()}
        inbound = str(Interaction.Direction.INBOUND.value)
        timeline_tail = f"\t{order_type}\t"
        orders: list[str] = []
        timeline: list[str] = []
        for p in new:
            at = p.ordered_at.isoformat()
            number = escape(p.number)
            orders.append(
                f"{p.id}\t{escape(p.key)}\t{number}\t{p.customer_id}\t{at}\t"
                f"{p.channel}\t{p.status}\tEUR\t{p.total}\n"
            )
            timeline.append(
                f"{p.customer_id}\t{at}\t{channels.get(p.channel, web)}\t{inbound}\tpurchase\t"
                f"Order {number}: {p.total} EUR{timeline_tail}{p.id}\t{actor}\n"
            )
        lines = "".join(
            [
                f"{p.id}\t{product}\t{quantity}\t{price}\t{total}\n"
                for p in new
                for product, quantity, price, total in p.lines
            ]
        )
        return "".join(orders), lines, "".join(timeline)

    def _order_type(self) -> int:
        # Asked first in ``prepare``, on the importing thread: the check thread must not query.
        cache = self.ctx.cache
        if "order_type" not in cache:
            cache["order_type"] = ContentType.objects.get_for_model(Order).pk
        return int(cache["order_type"])

    def write_checked(self, checked: _OrderCheck, *, write: bool) -> BatchOutcome:
        """Write a checked batch (unless ``write`` is false); return its outcome."""
        out, new, changed = checked.outcome, checked.new, checked.changed
        self._customers |= checked.customers
        if not write or not (new or changed):
            return out
        with sql.foreign_keys_checked_per_batch(
            self._set_based_checks(), self._references(new + changed)
        ):
            self._write(checked)
        out.events["order.imported"] = [
            {
                "id": p.id,
                "external_id": p.key,
                "number": p.number,
                "customer_id": p.customer_id,
                "total": str(p.total),
                "currency": "EUR",
            }
            for p in new
        ]
        return out

    def finish(self, *, write: bool) -> None:
        """Set the first purchase of every customer the file names, from their stored orders."""
        if write:
            customer_first_purchase_refresh(sorted(self._customers))

    def _set_based_checks(self) -> bool:
        """Whether foreign keys are checked once per batch instead of once per row (asked once)."""
        cache = self.ctx.cache
        if "set_based_checks" not in cache:
            cache["set_based_checks"] = sql.set_based_checks_allowed(
                [Order, OrderLine, Interaction, Customer]
            )
        return bool(cache["set_based_checks"])

    def _references(self, plans: list[_OrderPlan]) -> dict[Any, Any]:
        """The rows that the batch's orders, lines and timeline entries refer to."""
        references: dict[Any, Any] = {
            Customer: {p.customer_id for p in plans},
            Product: {line[0] for p in plans for line in p.lines},
            ContentType: [self._order_type()],
        }
        if self.ctx.actor_id is not None:
            references[Interaction._meta.get_field("actor").related_model] = [self.ctx.actor_id]
        return references

    def _write(self, checked: _OrderCheck) -> None:
        """Store the new orders with their lines and timeline entries, update the changed ones."""
        new, changed = checked.new, checked.changed
        if changed or checked.copy is None:
            ids = sql.upsert(
                Order,
                key="external_id",
                columns=_ORDER_COLUMNS,
                rows=[
                    (
                        p.key,
                        p.number,
                        p.customer_id,
                        p.ordered_at,
                        p.channel,
                        p.status,
                        "EUR",
                        p.total,
                    )
                    for p in (changed if checked.copy is not None else new + changed)
                ],
                update=["status", "channel"],
            )
            if checked.copy is None:
                for p in new:
                    p.id = ids[p.key]
        if not new:
            return
        if checked.copy is not None:
            orders, lines, timeline = checked.copy
            sql.copy_text(Order, ("id", *_ORDER_COLUMNS), orders)
            sql.copy_text(OrderLine, _LINE_COLUMNS, lines)
            sql.copy_text(Interaction, INTERACTION_COLUMNS, timeline)
            return
        bulk_insert(
            OrderLine, list(_LINE_COLUMNS), ((p.id, *line) for p in new for line in p.lines)
        )
        bulk_insert(
            Interaction,
            list(INTERACTION_COLUMNS),
            (
                (
                    p.customer_id,
                    p.ordered_at,
                    _ORDER_CHANNEL_TO_CONTACT.get(p.channel, Channel.WEB),
                    Interaction.Direction.INBOUND,
                    "purchase",
                    f"Order {p.number}: {p.total} EUR",
                    self._order_type(),
                    str(p.id),
                    self.ctx.actor_id,
                )
                for p in new
            ),
        )


def customer_first_purchase_refresh(customer_ids: Sequence[int]) -> None:
    """Move ``first_purchase_at`` back to each customer's earliest stored order (set-based).

    Only customers whose date moves are written. Runs once per import over all
    customers the file names, so an import broken off after some batches is
    mended by the next run of the same file.
    """
    if not customer_ids:
        return
    customers = connection.ops.quote_name(Customer._meta.db_table)
    orders = connection.ops.quote_name(Order._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One pass over the orders (GROUP BY), not one subquery per customer and use.
            array, param = sql.any_of(list(customer_ids), cast="bigint")
            cursor.execute(
                f"UPDATE {customers} c SET first_purchase_at = m.at "
                f"FROM (SELECT customer_id, min(ordered_at) AS at FROM {orders} "
                f"WHERE customer_id = ANY({array}) GROUP BY customer_id) m "
                f"WHERE c.id = m.customer_id "
                f"AND (c.first_purchase_at IS NULL OR c.first_purchase_at > m.at)",
                [param],
            )
            return
        earliest = (
            f"(SELECT min(o.ordered_at) FROM {orders} o WHERE o.customer_id = {customers}.id)"
        )
        for start in range(0, len(customer_ids), sql.SQLITE_CHUNK):
            chunk = customer_ids[start : start + sql.SQLITE_CHUNK]
            cursor.execute(
                f"UPDATE {customers} SET first_purchase_at = {earliest} "
                f"WHERE id IN ({', '.join(['%s'] * len(chunk))}) AND {earliest} IS NOT NULL "
                f"AND (first_purchase_at IS NULL OR first_purchase_at > {earliest})",
                list(chunk),
            )


# --- returns ---------------------------------------------------------------------------


class ReturnImporter(Importer):
    """Returns of order lines, upserted by ``external_id``.

    As in ``commerce.services.return_create``: never more than was bought
    (earlier returns and earlier rows of the file count), the refund defaults
    to unit price x quantity. A stored return may change reason, date and
    refund, not its quantity or line.
    """

    kind = "returns"
    fields = (
        FieldSpec(
            "external_id",
            _text(100),
            True,
            ("returnid", "retoureid", "retourennummer", "ruecksendenummer"),
        ),
        FieldSpec(
            "order_external_id",
            _text(100),
            False,
            ("orderid", "bestellid", "orderexternalid", "bestellnummer"),
        ),
        FieldSpec(
            "order_number", _text(40), False, ("ordernumber", "auftragsnummer", "belegnummer")
        ),
        FieldSpec("sku", _text(64), True, ("artikelnummer", "artnr", "artikelnr")),
        FieldSpec("quantity", _quantity, True, ("menge", "anzahl", "qty")),
        FieldSpec(
            "reason",
            _choice(
                [r.value for r in Return.Reason],
                {
                    "defekt": "defective",
                    "falscherartikel": "wrong_item",
                    "groesse": "size",
                    "gefaelltnicht": "changed_mind",
                    "sonstiges": "other",
                    "zuspaet": "late",
                },
            ),
            False,
            ("grund", "retourengrund"),
        ),
        FieldSpec("returned_at", _datetime, True, ("datum", "retourendatum", "date", "returnedat")),
        FieldSpec("refund", _money, False, ("erstattung", "gutschrift", "refundamount")),
    )
    one_of = (("order_external_id", "order_number"),)

    def process(self, rows: list[Row], *, write: bool) -> BatchOutcome:
        out = BatchOutcome()
        stored = sql.values_by_key(
            Return,
            key="external_id",
            keys=[r.values["external_id"] for r in rows],
            fields=["quantity", "reason", "refund", "returned_at"],
        )
        order_keys = Q(external_id__in={r.values.get("order_external_id") for r in rows} - {None})
        order_keys |= Q(number__in={r.values.get("order_number") for r in rows} - {None})
        lines: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
        order_rows = Order.objects.filter(order_keys).values(
            "id", "external_id", "number", "customer_id"
        )
        orders = {("e", o["external_id"]): o for o in order_rows} | {
            ("n", o["number"]): o for o in order_rows
        }
        line_rows: list[dict[str, Any]] = [
            dict(row)
            for row in OrderLine.objects.filter(order_id__in={o["id"] for o in orders.values()})
            .annotate(returned=Sum("returns__quantity"))
            .values("id", "order_id", "product__sku", "quantity", "unit_price", "returned")
            .order_by("id")
        ]
        for stored_line in line_rows:
            stored_line["left"] = stored_line["quantity"] - (stored_line["returned"] or 0)
            lines[(stored_line["order_id"], stored_line["product__sku"])].append(stored_line)
        seen: set[str] = set()
        new: list[tuple[Row, dict[str, Any], dict[str, Any]]] = []
        updates: list[tuple[Row, dict[str, Any]]] = []
        for row in rows:
            v = row.values
            key = v["external_id"]
            if key in seen:
                out.fail(
                    row, self.ctx.column("external_id"), "appears twice in this part of the file"
                )
                continue
            seen.add(key)
            reason = v.get("reason") or Return.Reason.OTHER
            if key in stored:
                before = stored[key]
                if before["quantity"] != v["quantity"]:
                    out.fail(
                        row,
                        self.ctx.column("quantity"),
                        "a stored return cannot change its quantity",
                    )
                    continue
                refund = v.get("refund", before["refund"])
                after = {"reason": reason, "refund": refund, "returned_at": v["returned_at"]}
                if all(before[f] == after[f] for f in after):
                    out.unchanged += 1
                else:
                    out.updated += 1
                    updates.append((row, {"id": before["id"], **after}))
                continue
            order = (
                orders.get(("e", v["order_external_id"]))
                if v.get("order_external_id")
                else orders.get(("n", v.get("order_number")))
            )
            if order is None:
                column = "order_external_id" if v.get("order_external_id") else "order_number"
                out.fail(row, self.ctx.column(column), "unknown order")
                continue
            candidates = lines.get((order["id"], v["sku"]), [])
            line: dict[str, Any] | None = next(
                (c for c in candidates if c["left"] >= v["quantity"]), None
            )
            if line is None:
                left = sum(c["left"] for c in candidates)
                message = (
                    f"only {left} of this product can still be returned"
                    if candidates
                    else f"order has no line with product “{v['sku']}”"
                )
                out.fail(row, self.ctx.column("quantity" if candidates else "sku"), message)
                continue
            line["left"] -= v["quantity"]
            refund = v.get("refund")
            new.append(
                (
                    row,
                    line,
                    {
                        "customer_id": order["customer_id"],
                        "number": order["number"],
                        "reason": reason,
                        "refund": (line["unit_price"] * v["quantity"]).quantize(CENT)
                        if refund is None
                        else refund,
                    },
                )
            )
            out.created += 1
        if not write:
            return out
        for _, change in updates:
            Return.objects.filter(pk=change.pop("id")).update(**change)
        if new:
            ids = sql.upsert(
                Return,
                key="external_id",
                columns=[
                    "external_id",
                    "order_line",
                    "customer",
                    "returned_at",
                    "quantity",
                    "reason",
                    "refund",
                ],
                rows=[
                    (
                        r.values["external_id"],
                        line["id"],
                        x["customer_id"],
                        r.values["returned_at"],
                        r.values["quantity"],
                        x["reason"],
                        x["refund"],
                    )
                    for r, line, x in new
                ],
                update=[],
            )
            return_type = ContentType.objects.get_for_model(Return).pk
            labels = dict(Return.Reason.choices)
            bulk_insert(
                Interaction,
                list(INTERACTION_COLUMNS),
                (
                    (
                        x["customer_id"],
                        r.values["returned_at"],
                        Channel.WEB,
                        Interaction.Direction.INBOUND,
                        "return",
                        f"Return from order {x['number']}: {labels[x['reason']]}",
                        return_type,
                        str(ids[r.values["external_id"]]),
                        self.ctx.actor_id,
                    )
                    for r, _, x in new
                ),
            )
        return out


# --- subscriptions ---------------------------------------------------------------------


class SubscriptionImporter(Importer):
    """Subscriptions upserted by ``external_id``; the end is never before the start."""

    kind = "subscriptions"
    fields = (
        FieldSpec(
            "external_id",
            _text(100),
            True,
            ("aboid", "abonummer", "vertragsnummer", "subscriptionid", "contractid"),
        ),
        *_CUSTOMER_REF,
        FieldSpec("plan", _text(100), True, ("tarif", "abo", "produkt", "plan")),
        FieldSpec(
            "monthly_amount",
            _money,
            True,
            ("monatsbetrag", "betrag", "preis", "amount", "monthlyprice"),
        ),
        FieldSpec(
            "started_at",
            _date,
            True,
            ("beginn", "start", "startdatum", "vertragsbeginn", "startdate"),
        ),
        FieldSpec("ends_at", _date, False, ("ende", "enddatum", "vertragsende", "enddate")),
        FieldSpec(
            "cancelled_at",
            _date,
            False,
            ("gekuendigtam", "kuendigung", "kuendigungsdatum", "cancelled", "cancellationdate"),
        ),
        FieldSpec(
            "cancellation_reason", _text(200), False, ("kuendigungsgrund", "grund", "reason")
        ),
    )
    one_of = (("customer_external_id", "customer_number"),)
    _fields = (
        "customer_id",
        "plan",
        "monthly_amount",
        "started_at",
        "ends_at",
        "cancelled_at",
        "cancellation_reason",
    )

    def process(self, rows: list[Row], *, write: bool) -> BatchOutcome:
        out = BatchOutcome()
        groups = _collapse(rows, "external_id")
        by_ext, by_num = _customer_ids(rows)
        stored = sql.values_by_key(
            Subscription, key="external_id", keys=list(groups), fields=list(self._fields)
        )
        records = []
        for key, group in groups.items():
            v = _merged(group)
            customer_id = _customer_of(v, by_ext, by_num)
            if customer_id is None:
                for row in group:
                    out.fail(row, _customer_column(self.ctx, v), "unknown customer")
                continue
            if v.get("ends_at") and v["ends_at"] < v["started_at"]:
                for row in group:
                    out.fail(row, self.ctx.column("ends_at"), "ends before it starts")
                continue
            record = {
                "customer_id": customer_id,
                "plan": v["plan"],
                "monthly_amount": v["monthly_amount"],
                "started_at": v["started_at"],
                "ends_at": v.get("ends_at"),
                "cancelled_at": v.get("cancelled_at"),
                "cancellation_reason": v.get("cancellation_reason") or "",
            }
            before = stored.get(key)
            if before is None:
                out.created += 1
                out.updated += len(group) - 1
            elif any(before[f] != record[f] for f in self._fields):
                out.updated += len(group)
            else:
                out.unchanged += len(group)
                continue
            records.append((key, record))
        if write and records:
            sql.upsert(
                Subscription,
                key="external_id",
                columns=[
                    "external_id",
                    "customer",
                    *[f.removesuffix("_id") for f in self._fields[1:]],
                ],
                rows=[(k, *[r[f] for f in self._fields]) for k, r in records],
                update=["customer", *[f for f in self._fields[1:]]],
            )
        return out


IMPORTERS: dict[str, type[Importer]] = {
    i.kind: i
    for i in (
        CustomerImporter,
        ProductImporter,
        OrderImporter,
        ReturnImporter,
        SubscriptionImporter,
    )
}
