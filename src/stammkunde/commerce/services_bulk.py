"""Bulk writes to products, orders, returns and subscriptions (imports), set-based.

The same rules as ``order_create`` and ``return_create`` for a whole batch:
the lines and the timeline entry of each order, the first purchase of its
customer (a prospect becomes a customer), and the hooks: ``orders_created``
and ``returns_created`` are the bulk forms of ``order_created`` and
``return_created`` (loyalty books the points of member orders there). The
caller (``dataio.importers``) has parsed and checked the rows; these
functions write them in the caller's transaction. Re-exported by
``commerce.services``.

On PostgreSQL new orders are written by COPY with ids drawn beforehand
(``order_ids_reserve``), so the COPY text (``orders_copy_texts``) can be
built without the database, beside the previous batch's write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Min

from stammkunde.core import db
from stammkunde.core.hooks import hook_run
from stammkunde.customers.selectors import Channel, InteractionDirection
from stammkunde.customers.services import (
    customers_bulk_tables,
    customers_mark_purchase_bulk,
    interactions_bulk_record,
    interactions_copy_text,
    timeline_texts_summaries,
)

from .models import Order, OrderLine, Product, ProductCategory, Return, Subscription
from .timeline import ORDER_TEXT, RETURN_TEXT, order_text_params, return_text_params

ORDER_CHANNEL_TO_CONTACT: dict[str, str] = {
    Order.Channel.SHOP: Channel.WEB,
    Order.Channel.POS: Channel.SHOP,
    Order.Channel.PHONE: Channel.PHONE,
    Order.Channel.ERP: Channel.WEB,
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


@dataclass(slots=True)
class OrderDraft:
    """A checked order: what ``order_create`` would store, and the caller's source rows."""

    key: str  # external id
    number: str
    customer_id: int
    ordered_at: datetime
    channel: str
    status: str
    lines: list[tuple[int, int, Decimal, Decimal]]  # product id, quantity, unit price, total
    total: Decimal
    rows: list[Any] = field(default_factory=list)
    id: int = 0  # drawn beforehand on PostgreSQL, known after the write on SQLite


@dataclass(slots=True)
class ReturnDraft:
    """A checked return of (part of) an order line, as ``return_create`` would store it."""

    external_id: str
    order_line_id: int
    customer_id: int
    order_number: str
    returned_at: datetime
    quantity: int
    reason: str
    refund: Decimal


def order_content_type_id() -> int:
    """The content type of orders (the timeline entries' source); cached by Django."""
    return int(ContentType.objects.get_for_model(Order).pk)


def order_ids_reserve(*, count: int) -> list[int]:
    """Draw ``count`` order ids beforehand (PostgreSQL); empty on SQLite (ids come on write)."""
    return db.ids_reserve(Order, count) if db.is_postgresql() else []


def orders_set_based_checks_allowed() -> bool:
    """Whether ``orders_bulk_create`` may check foreign keys once per batch (see core.db)."""
    return db.set_based_checks_allowed([Order, OrderLine, *customers_bulk_tables()])


def orders_copy_texts(
    drafts: Sequence[OrderDraft], *, actor_id: int | None, order_type_id: int
) -> tuple[str, str, str]:
    """The orders (with ids), their lines and timeline entries in COPY text; no database."""
    escape = db.copy_escape
    actor = "\\N" if actor_id is None else str(actor_id)
    web = str(Channel.WEB.value)
    channels = {k: str(v) for k, v in ORDER_CHANNEL_TO_CONTACT.items()}
    inbound = str(InteractionDirection.INBOUND.value)
    timeline_tail = f"\t{order_type_id}\t"
    params = [order_text_params(number=p.number, total=p.total) for p in drafts]
    summaries = timeline_texts_summaries(ORDER_TEXT, params)
    orders: list[str] = []
    timeline: list[str] = []
    for p, summary in zip(drafts, summaries, strict=True):
        at = p.ordered_at.isoformat()
        number = escape(p.number)
        orders.append(
            f"{p.id}\t{escape(p.key)}\t{number}\t{p.customer_id}\t{at}\t"
            f"{p.channel}\t{p.status}\tEUR\t{p.total}\n"
        )
        timeline.append(
            f"{p.customer_id}\t{at}\t{channels.get(p.channel, web)}\t{inbound}\tpurchase\t"
            f"{escape(summary)}{timeline_tail}{p.id}\t{actor}\t{ORDER_TEXT}\t"
            # order_text_params as JSON, written out (json.dumps per row costs more)
            f'{{"number": {escape(encode_basestring(p.number))}, "total": "{p.total}"}}\n'
        )
    lines = "".join(
        [
            f"{p.id}\t{product}\t{quantity}\t{price}\t{total}\n"
            for p in drafts
            for product, quantity, price, total in p.lines
        ]
    )
    return "".join(orders), lines, "".join(timeline)


@transaction.atomic
def orders_bulk_create(
    *,
    new: Sequence[OrderDraft],
    changed: Sequence[OrderDraft] = (),
    actor_id: int | None,
    copy: tuple[str, str, str] | None = None,
    set_based_checks: bool = False,
    mark_purchase: bool = True,
) -> None:
    """Store new orders with lines and timeline entries; update status and channel of changed ones.

    ``copy`` is ``orders_copy_texts`` of ``new`` (ids drawn with
    ``order_ids_reserve``); without it the orders are upserted and get their
    ids here. With ``mark_purchase`` false the caller marks the first purchases
    later, once for many batches (``orders_mark_purchase``). Runs the hook
    ``orders_created`` with the new orders.
    """
    if not (new or changed):
        return
    with db.foreign_keys_checked_per_batch(
        set_based_checks, _references([*new, *changed], actor_id)
    ):
        _write(new, changed, actor_id, copy)
    if not new:
        return
    customer_ids = sorted({p.customer_id for p in new})
    if mark_purchase:
        orders_mark_purchase(customer_ids=customer_ids)
    hook_run("orders_created", order_ids=[p.id for p in new], customer_ids=customer_ids)


def _references(drafts: Sequence[OrderDraft], actor_id: int | None) -> dict[Any, Any]:
    """The rows that the batch's orders, lines and timeline entries refer to."""
    customer_model, interaction_model = customers_bulk_tables()
    references: dict[Any, Any] = {
        customer_model: {p.customer_id for p in drafts},
        Product: {line[0] for p in drafts for line in p.lines},
        ContentType: [order_content_type_id()],
    }
    if actor_id is not None:
        references[interaction_model._meta.get_field("actor").related_model] = [actor_id]
    return references


def _write(
    new: Sequence[OrderDraft],
    changed: Sequence[OrderDraft],
    actor_id: int | None,
    copy: tuple[str, str, str] | None,
) -> None:
    if changed or copy is None:
        ids = db.upsert(
            Order,
            key="external_id",
            columns=_ORDER_COLUMNS,
            rows=[
                (p.key, p.number, p.customer_id, p.ordered_at, p.channel, p.status, "EUR", p.total)
                for p in ([*changed] if copy is not None else [*new, *changed])
            ],
            update=["status", "channel"],
        )
        if copy is None:
            for p in new:
                p.id = ids[p.key]
    if not new:
        return
    if copy is not None:
        orders, lines, timeline = copy
        db.copy_text(Order, ("id", *_ORDER_COLUMNS), orders)
        db.copy_text(OrderLine, _LINE_COLUMNS, lines)
        interactions_copy_text(text=timeline)
        return
    db.bulk_insert(OrderLine, list(_LINE_COLUMNS), ((p.id, *line) for p in new for line in p.lines))
    order_type = order_content_type_id()
    params = [order_text_params(number=p.number, total=p.total) for p in new]
    summaries = timeline_texts_summaries(ORDER_TEXT, params)
    interactions_bulk_record(
        rows=(
            (
                p.customer_id,
                p.ordered_at,
                ORDER_CHANNEL_TO_CONTACT.get(p.channel, Channel.WEB),
                InteractionDirection.INBOUND,
                "purchase",
                summary,
                order_type,
                str(p.id),
                actor_id,
                ORDER_TEXT,
                param,
            )
            for p, summary, param in zip(new, summaries, params, strict=True)
        )
    )


def orders_mark_purchase(*, customer_ids: Sequence[int]) -> None:
    """Set each customer's first purchase from their earliest stored order (set-based).

    What ``order_create`` does per order with ``customer_mark_purchase``, for
    many customers in two statements; an import broken off after some
    batches is mended by the next run of the same file.
    """
    if not customer_ids:
        return
    table = connection.ops.quote_name(Order._meta.db_table)
    earliest: dict[int, datetime] = {}
    with connection.cursor() as cursor:
        if db.is_postgresql():
            array, param = db.any_of(list(customer_ids), cast="bigint")
            cursor.execute(
                f"SELECT customer_id, min(ordered_at) FROM {table} "  # noqa: S608
                f"WHERE customer_id = ANY({array}) GROUP BY customer_id",
                [param],
            )
            earliest = dict(cursor.fetchall())
        else:
            for start in range(0, len(customer_ids), db.SQLITE_CHUNK):
                chunk = list(customer_ids[start : start + db.SQLITE_CHUNK])
                earliest.update(
                    Order.objects.filter(customer_id__in=chunk)
                    .values("customer_id")
                    .annotate(at=Min("ordered_at"))
                    .values_list("customer_id", "at")
                )
    customers_mark_purchase_bulk(earliest=earliest)


@transaction.atomic
def returns_bulk_create(
    *,
    new: Sequence[ReturnDraft],
    changed: Iterable[dict[str, Any]] = (),
    actor_id: int | None,
) -> dict[str, int]:
    """Store new returns with their timeline entries; update reason, date, refund of others.

    ``changed`` holds ``{"id", "reason", "refund", "returned_at"}``. Returns
    ``{external id: id}`` of the new returns and runs the hook
    ``returns_created`` with them.
    """
    for change in changed:
        values = dict(change)
        Return.objects.filter(pk=values.pop("id")).update(**values)
    if not new:
        return {}
    ids = db.upsert(
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
                r.external_id,
                r.order_line_id,
                r.customer_id,
                r.returned_at,
                r.quantity,
                r.reason,
                r.refund,
            )
            for r in new
        ],
        update=[],
    )
    return_type = ContentType.objects.get_for_model(Return).pk
    params = [return_text_params(order_number=r.order_number, reason=r.reason) for r in new]
    summaries = timeline_texts_summaries(RETURN_TEXT, params)
    interactions_bulk_record(
        rows=(
            (
                r.customer_id,
                r.returned_at,
                Channel.WEB,
                InteractionDirection.INBOUND,
                "return",
                summary,
                return_type,
                str(ids[r.external_id]),
                actor_id,
                RETURN_TEXT,
                param,
            )
            for r, summary, param in zip(new, summaries, params, strict=True)
        )
    )
    hook_run(
        "returns_created",
        return_ids=[ids[r.external_id] for r in new],
        customer_ids=sorted({r.customer_id for r in new}),
    )
    return ids


@transaction.atomic
def products_bulk_upsert(*, records: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Create or update products by SKU; categories are created on first use.

    ``records`` holds (sku, {name, category__name, price, margin_rate, is_service, active}).
    """
    if not records:
        return
    names = sorted({r["category__name"] for _, r in records})
    ProductCategory.objects.bulk_create(
        [ProductCategory(name=n) for n in names], ignore_conflicts=True
    )
    categories = dict(ProductCategory.objects.filter(name__in=names).values_list("name", "id"))
    db.upsert(
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


SUBSCRIPTION_FIELDS = (
    "customer_id",
    "plan",
    "monthly_amount",
    "started_at",
    "ends_at",
    "cancelled_at",
    "cancellation_reason",
)


@transaction.atomic
def subscriptions_bulk_upsert(*, records: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Create or update subscriptions by external id (``records``: key, SUBSCRIPTION_FIELDS)."""
    if not records:
        return
    db.upsert(
        Subscription,
        key="external_id",
        columns=["external_id", "customer", *SUBSCRIPTION_FIELDS[1:]],
        rows=[(k, *[r[f] for f in SUBSCRIPTION_FIELDS]) for k, r in records],
        update=["customer", *SUBSCRIPTION_FIELDS[1:]],
    )
