"""Subscriptions upserted by external id (``commerce`` app: ``subscriptions_bulk_upsert``)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from stammkunde.commerce.selectors import subscriptions_values_by_external_id
from stammkunde.commerce.services import SUBSCRIPTION_FIELDS, subscriptions_bulk_upsert

from .common import (
    _CUSTOMER_REF,
    BatchOutcome,
    FieldSpec,
    Importer,
    Row,
    _amount_below,
    _collapse,
    _customer_column,
    _customer_ids,
    _customer_of,
    _date,
    _merged,
    _text,
)


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
            _amount_below(Decimal(10) ** 8),  # the column: 10 digits, 2 after the point
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
    _fields = SUBSCRIPTION_FIELDS

    def process(self, rows: list[Row], *, write: bool) -> BatchOutcome:
        out = BatchOutcome()
        groups = _collapse(rows, "external_id")
        by_ext, by_num = _customer_ids(rows)
        stored = subscriptions_values_by_external_id(keys=list(groups), fields=list(self._fields))
        records = []
        for key, group in groups.items():
            v = _merged(group)
            customer_id = _customer_of(v, by_ext, by_num)
            if customer_id is None:
                for row in group:
                    out.fail(row, _customer_column(self.ctx, v), _("unknown customer"))
                continue
            if v.get("ends_at") and v["ends_at"] < v["started_at"]:
                for row in group:
                    out.fail(row, self.ctx.column("ends_at"), _("ends before it starts"))
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
        if write:
            subscriptions_bulk_upsert(records=records)
        return out
