"""Returns of order lines, upserted by external id (``commerce`` app: ``returns_bulk_create``)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils.translation import gettext as _

from stammkunde.commerce.selectors import (
    ReturnReason,
    order_lines_returnable,
    orders_named,
    returns_values_by_external_id,
)
from stammkunde.commerce.services import ReturnDraft, returns_bulk_create

from .common import (
    CENT,
    BatchOutcome,
    FieldSpec,
    Importer,
    Row,
    _choice,
    _datetime,
    _money,
    _quantity,
    _text,
)


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
                [r.value for r in ReturnReason],
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
        stored = returns_values_by_external_id(
            keys=[r.values["external_id"] for r in rows],
            fields=["quantity", "reason", "refund", "returned_at"],
        )
        lines: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
        order_rows = orders_named(
            external_ids={r.values.get("order_external_id") for r in rows} - {None},  # type: ignore[arg-type]
            numbers={r.values.get("order_number") for r in rows} - {None},  # type: ignore[arg-type]
        )
        orders = {("e", o["external_id"]): o for o in order_rows} | {
            ("n", o["number"]): o for o in order_rows
        }
        line_rows = order_lines_returnable(order_ids={o["id"] for o in orders.values()})
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
                    row, self.ctx.column("external_id"), _("appears twice in this part of the file")
                )
                continue
            seen.add(key)
            reason = v.get("reason") or ReturnReason.OTHER
            if key in stored:
                before = stored[key]
                if before["quantity"] != v["quantity"]:
                    out.fail(
                        row,
                        self.ctx.column("quantity"),
                        _("a stored return cannot change its quantity"),
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
                out.fail(row, self.ctx.column(column), _("unknown order"))
                continue
            candidates = lines.get((order["id"], v["sku"]), [])
            line: dict[str, Any] | None = next(
                (c for c in candidates if c["left"] >= v["quantity"]), None
            )
            if line is None:
                left = sum(c["left"] for c in candidates)
                message = (
                    _("only %(left)s of this product can still be returned") % {"left": left}
                    if candidates
                    else _("order has no line with product “%(sku)s”") % {"sku": v["sku"]}
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
        if write:
            returns_bulk_create(
                new=[
                    ReturnDraft(
                        external_id=r.values["external_id"],
                        order_line_id=line["id"],
                        customer_id=x["customer_id"],
                        order_number=x["number"],
                        returned_at=r.values["returned_at"],
                        quantity=r.values["quantity"],
                        reason=x["reason"],
                        refund=x["refund"],
                    )
                    for r, line, x in new
                ],
                changed=[change for _row, change in updates],
                actor_id=self.ctx.actor_id,
            )
        return out
