"""Bulk writes to customers, their contact data and timeline (imports), set-based.

The same rules as ``customer_create``/``customer_update``, ``interaction_record``
and ``customer_mark_purchase``, for thousands of rows in a few statements:
numbers from one reserved block, an audit entry per created or changed
customer, contact data added (never replaced), the first purchase kept at the
earliest order. Callers (``dataio.importers``) parse and check the rows; these
functions write them in the caller's transaction. Re-exported by
``customers.services``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from stammkunde.core import db
from stammkunde.core.audit import audit_records_bulk
from stammkunde.core.sequences import counter_next

from .models import Address, Customer, EmailAddress, Interaction, PhoneNumber
from .normalize import search_text

# The timeline row a bulk write adds, in COPY/bulk_insert column order.
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
    "text_key",
    "text_params",
)

CUSTOMER_RECORD_FIELDS = (
    "kind",
    "salutation",
    "first_name",
    "last_name",
    "company_name",
    "birthday",
    "preferred_language",
    "preferred_channel",
)

_UPSERT_COLUMNS = [
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
]
_UPSERT_UPDATES = [
    "kind",
    "salutation",
    "first_name",
    "last_name",
    "company_name",
    "search_name",
    "birthday",
    "preferred_language",
    "preferred_channel",
]


@dataclass(slots=True)
class CustomerDraft:
    """A checked customer row: its external id, stored number (None: new) and fields."""

    external_id: str
    number: str | None
    record: dict[str, Any]  # CUSTOMER_RECORD_FIELDS and created_at
    contact: dict[str, Any]  # email, phone, street, postal_code, city, country (may be absent)


def customers_bulk_upsert(
    *,
    drafts: Sequence[CustomerDraft],
    actor_id: int | None,
    at: datetime,
    job_id: int | None = None,
) -> dict[str, int]:
    """Create or update customers by external id; return ``{external id: id}``.

    New customers get numbers from one reserved block; every created or
    changed customer gets an audit entry (``changes`` names the import job);
    emails, phones and addresses they do not have yet are added.
    """
    if not drafts:
        return {}
    new_keys = [d.external_id for d in drafts if d.number is None]
    first = counter_next("customer", count=len(new_keys)) if new_keys else 0
    numbers = iter(range(first, first + len(new_keys)))
    rows = []
    for d in drafts:
        r = d.record
        rows.append(
            (
                d.external_id,
                d.number or f"K{next(numbers):07d}",
                r["kind"],
                r["salutation"],
                r["first_name"],
                r["last_name"],
                r["company_name"],
                search_text(r["last_name"], r["first_name"], r["company_name"]),
                r["birthday"],
                r["preferred_language"],
                r["preferred_channel"],
                "",
                r["created_at"],
                1,
            )
        )
    ids = db.upsert(
        Customer,
        key="external_id",
        columns=_UPSERT_COLUMNS,
        rows=rows,
        update=_UPSERT_UPDATES,
        bump="version",
    )
    contact_data_add(ids=ids, contact=[(d.external_id, d.contact) for d in drafts])
    new = set(new_keys)
    changes = {"import_job": job_id}
    for action, keys in (
        ("create", new_keys),
        ("update", [d.external_id for d in drafts if d.external_id not in new]),
    ):
        audit_records_bulk(
            actor_id=actor_id,
            at=at,
            action=action,
            object_type="customers.Customer",
            ids=[(ids[k], ids[k]) for k in keys],
            changes=changes,
        )
    return ids


def contact_data_add(*, ids: dict[Any, int], contact: list[tuple[Any, dict[str, Any]]]) -> None:
    """Add emails, phones and addresses that the customers do not have yet.

    The first email and phone of a customer becomes the primary one, as in
    ``customer_create``.
    """
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
    if db.is_postgresql():
        _contact_data_add_set_based(e, p, a, emails, phones, addresses)
        return
    # "WHERE true" lets SQLite parse INSERT ... SELECT ... ON CONFLICT.
    db.executemany(
        f"INSERT INTO {e} (customer_id, address, is_primary, undeliverable_reason) "
        f"SELECT %s, %s, NOT EXISTS (SELECT 1 FROM {e} x WHERE x.customer_id = %s), '' "
        f"WHERE true ON CONFLICT (customer_id, address) DO NOTHING",
        [(cid, addr, cid) for cid, addr in emails],
    )
    db.executemany(
        f"INSERT INTO {p} (customer_id, number, kind, is_primary) "
        f"SELECT %s, %s, 'mobile', NOT EXISTS (SELECT 1 FROM {p} x WHERE x.customer_id = %s) "
        f"WHERE true ON CONFLICT (customer_id, number) DO NOTHING",
        [(cid, num, cid) for cid, num in phones],
    )
    db.executemany(
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


def customers_bulk_tables() -> tuple[type[Customer], type[Interaction]]:
    """The customer and timeline tables a bulk write of another app refers to or adds to.

    For ``core.db.set_based_checks_allowed`` and ``foreign_keys_checked_per_batch``.
    """
    return Customer, Interaction


def interactions_bulk_record(*, rows: Iterable[Sequence[Any]]) -> int:
    """Add timeline entries (tuples in ``INTERACTION_COLUMNS`` order) in one bulk insert.

    As ``interaction_record`` writes them: a text key, its parameters (a dict of
    JSON values) and the summary in the site's default language
    (``timeline_texts_summaries``), or no key and the summary shown as it is.
    """
    return db.bulk_insert(Interaction, list(INTERACTION_COLUMNS), rows)


def interactions_copy_text(*, text: str) -> None:
    """Add timeline entries already written as COPY text in ``INTERACTION_COLUMNS`` order.

    ``text_params`` as JSON text (``json.dumps``, then ``copy_escape``).
    """
    db.copy_text(Interaction, INTERACTION_COLUMNS, text)


def customers_mark_purchase_bulk(*, earliest: dict[int, datetime]) -> None:
    """Keep ``first_purchase_at`` at the earliest purchase for many customers at once.

    The bulk form of ``customer_mark_purchase`` (a prospect becomes a
    customer): ``earliest`` maps customer ids to their earliest purchase; only
    customers whose date moves back (or is set) are written.
    """
    if not earliest:
        return
    table = connection.ops.quote_name(Customer._meta.db_table)
    if db.is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} c SET first_purchase_at = m.at "
                f"FROM unnest(%s::bigint[], %s::timestamptz[]) AS m(customer_id, at) "
                f"WHERE c.id = m.customer_id "
                f"AND (c.first_purchase_at IS NULL OR c.first_purchase_at > m.at)",
                [list(earliest), list(earliest.values())],
            )
        return
    adapt = connection.ops.adapt_datetimefield_value
    db.executemany(
        f"UPDATE {table} SET first_purchase_at = %s "
        f"WHERE id = %s AND (first_purchase_at IS NULL OR first_purchase_at > %s)",
        [(adapt(at), cid, adapt(at)) for cid, at in earliest.items()],
    )
