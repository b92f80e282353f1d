"""Products upserted by SKU (``commerce`` app)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from stammkunde.commerce.selectors import products_values_by_sku
from stammkunde.commerce.services import products_bulk_upsert

from .common import (
    BatchOutcome,
    FieldSpec,
    Importer,
    Row,
    _bool,
    _collapse,
    _decimal,
    _merged,
    _money,
    _text,
)


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
        stored = products_values_by_sku(skus=list(groups), fields=fields)
        records = []
        for sku, group in groups.items():
            values = _merged(group)
            margin = values.get("margin_rate")
            if margin is not None and not (0 <= margin <= 1):
                for row in group:
                    out.fail(row, self.ctx.column("margin_rate"), _("must be between 0 and 1"))
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
        if write:
            products_bulk_upsert(records=records)
        return out
