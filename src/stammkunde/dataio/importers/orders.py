"""Orders, one row per order line (``commerce`` app: ``orders_bulk_create``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

from stammkunde.commerce.selectors import (
    OrderChannel,
    OrderStatus,
    orders_values_by,
    products_by_sku,
)
from stammkunde.commerce.services import (
    OrderDraft,
    order_content_type_id,
    order_ids_reserve,
    orders_bulk_create,
    orders_copy_texts,
    orders_mark_purchase,
    orders_set_based_checks_allowed,
)

from .common import (
    _CUSTOMER_REF,
    CENT,
    MONEY_LIMIT,
    BatchOutcome,
    Context,
    FieldSpec,
    Importer,
    Row,
    _choice,
    _collapse,
    _customer_column,
    _customer_ids,
    _customer_of,
    _datetime,
    _money,
    _quantity,
    _text,
)


@dataclass
class _OrderLookups:
    """What ``OrderImporter.check`` needs from the database for one batch."""

    by_ext: dict[str, int]
    by_num: dict[str, int]
    products: dict[str, tuple[int, Decimal]]
    stored: dict[str, dict[str, Any]]
    numbers_taken: set[str]
    ids: list[int]  # drawn for the new orders (PostgreSQL; empty on SQLite)


_OrderPlan = OrderDraft  # a checked order; ``rows`` are its lines in the file


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
    (``commerce.services.order_ids_reserve``), so the COPY text of orders,
    lines and timeline is built in the check, beside the previous batch's
    write; ``commerce.services.orders_bulk_create`` writes each batch and runs
    the rules of ``order_create`` (timeline, hook ``orders_created``: loyalty
    points). If another writer
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
                [c.value for c in OrderChannel],
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
                [s.value for s in OrderStatus],
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
        if missing:
            cache.update(products_by_sku(skus=missing))
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
            problems.append((group[0], _customer_column(self.ctx, head), _("unknown customer")))
        for row in group[1:]:
            for f in _SAME_IN_EVERY_LINE:
                value = row.values.get(f)
                if value is not None and value != head.get(f):
                    problems.append(
                        (
                            row,
                            self.ctx.column(f),
                            _("differs from line %(line)s of the same order")
                            % {"line": group[0].line},
                        )
                    )
        currency = (head.get("currency") or "EUR").upper()
        if currency != "EUR":
            problems.append((group[0], self.ctx.column("currency"), _("only EUR is supported")))
        lines = []
        total = Decimal("0.00")
        given = None
        for row in group:
            values = row.values
            product = products.get(values["sku"])
            if given is None:
                given = values.get("total")
            if product is None:
                problems.append(
                    (
                        row,
                        self.ctx.column("sku"),
                        _("unknown product “%(sku)s”") % {"sku": values["sku"]},
                    )
                )
                continue
            price = values.get("unit_price")
            price = product[1] if price is None else price
            quantity = values["quantity"]
            line_total = (price * quantity).quantize(CENT)
            total += line_total
            lines.append((product[0], quantity, price, line_total))
        if not problems and total >= MONEY_LIMIT:
            problems.append(
                (
                    group[0],
                    self.ctx.column("total"),
                    _("the lines add up to %(total)s: too large")
                    % {"total": formats.number_format(total, 2)},
                )
            )
        if not problems and given is not None and given != total:
            problems.append(
                (
                    group[0],
                    self.ctx.column("total"),
                    _("%(given)s is not the sum of the lines (%(total)s)")
                    % {
                        "given": formats.number_format(given, 2),
                        "total": formats.number_format(total, 2),
                    },
                )
            )
        if problems:
            failed_rows = {id(problem[0]) for problem in problems}
            for row, column, message in problems:
                out.fail(row, column, message)
            for row in group:
                if id(row) not in failed_rows:
                    out.fail(
                        row, "", _("another line of order %(order)s is invalid") % {"order": key}
                    )
            return None
        return _OrderPlan(
            key=key,
            rows=group,
            number=head.get("number") or key,
            customer_id=customer_id or 0,
            ordered_at=head["ordered_at"],
            channel=head.get("channel") or OrderChannel.SHOP,
            status=head.get("status") or OrderStatus.PAID,
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
        stored = orders_values_by(
            key="external_id", keys=list(heads), fields=["number", "status", "channel"]
        )
        numbers_taken = orders_values_by(
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
            ids=order_ids_reserve(count=len(heads) - len(stored)),
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
                            _("order number %(number)s belongs to another order")
                            % {"number": plan.number},
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
        return orders_copy_texts(new, actor_id=self.ctx.actor_id, order_type_id=self._order_type())

    def _order_type(self) -> int:
        # Asked first in ``prepare``, on the importing thread: the check thread must not query.
        cache = self.ctx.cache
        if "order_type" not in cache:
            cache["order_type"] = order_content_type_id()
        return int(cache["order_type"])

    def write_checked(self, checked: _OrderCheck, *, write: bool) -> BatchOutcome:
        """Write a checked batch (unless ``write`` is false); return its outcome."""
        out, new, changed = checked.outcome, checked.new, checked.changed
        self._customers |= checked.customers
        if not write or not (new or changed):
            return out
        orders_bulk_create(
            new=new,
            changed=changed,
            actor_id=self.ctx.actor_id,
            copy=checked.copy,
            set_based_checks=self._set_based_checks(),
            mark_purchase=False,  # once for the whole file, in ``finish``
        )
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
            orders_mark_purchase(customer_ids=sorted(self._customers))

    def _set_based_checks(self) -> bool:
        """Whether foreign keys are checked once per batch instead of once per row (asked once)."""
        cache = self.ctx.cache
        if "set_based_checks" not in cache:
            cache["set_based_checks"] = orders_set_based_checks_allowed()
        return bool(cache["set_based_checks"])
