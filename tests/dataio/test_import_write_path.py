"""Imported orders and returns get what the same ones get when created one by one.

One write path: the importer hands each checked batch to the owning app's bulk
service (``customers_bulk_*``, ``orders_bulk_create``, ``returns_bulk_create``),
which runs the rules of ``order_create``/``return_create`` set-based: loyalty
points (ledger entries, balance, lots, first-purchase bonus, tier), the first
purchase (a prospect becomes a customer) and the timeline.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from stammkunde.commerce.models import Order, OrderLine, Return
from stammkunde.commerce.services import LineInput, order_create, return_create
from stammkunde.customers.models import Customer, Interaction
from stammkunde.dataio.models import ImportJob
from stammkunde.dataio.services.import_jobs import import_job_create, import_job_run
from stammkunde.loyalty.models import LoyaltyAccount, PointsEntry, PointsLot
from tests.commerce.factories import product
from tests.customers.factories import CustomerFactory
from tests.loyalty.factories import account

from .conftest import write

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)

# (order suffix, days after T0, [(sku, quantity, unit price or "")]); the same for both customers.
ORDERS = [
    ("1", 0, [("RAD-1", 1, "1249.00"), ("SERV-1", 1, "")]),
    ("2", 3, [("ZB-1", 2, "19.95")]),
    ("3", 10, [("ZB-1", 1, ""), ("RAD-1", 1, "999.00")]),
]
# (return suffix, order suffix, sku, quantity, days after T0, refund or "")
RETURNS = [
    ("R1", "2", "ZB-1", 1, 5, ""),
    ("R2", "3", "RAD-1", 1, 12, "500.00"),
]


def _local(at: dt.datetime) -> str:
    """A time as a shop export writes it: local time, German order."""
    return timezone.localtime(at).strftime("%d.%m.%Y %H:%M")


def _shop() -> None:
    product("RAD-1", "1249.00", "Räder")
    product("SERV-1", "79.00", "Werkstatt", is_service=True)
    product("ZB-1", "24.95", "Zubehör")


def _customers() -> tuple[Customer, Customer]:
    one = CustomerFactory(external_id="EINZELN")
    bulk = CustomerFactory(external_id="IMPORT")
    for customer in (one, bulk):
        account(customer, first_purchase_bonus=250)
    return one, bulk


def _one_by_one(customer: Customer) -> None:
    for suffix, days, lines in ORDERS:
        order_create(
            actor=None,
            customer=customer,
            number=f"E-{suffix}",
            ordered_at=T0 + dt.timedelta(days=days),
            lines=[
                LineInput(sku=s, quantity=q, unit_price=Decimal(p) if p else None)
                for s, q, p in lines
            ],
            channel=Order.Channel.SHOP,
        )
    for _, order_suffix, sku, quantity, days, refund in RETURNS:
        line = OrderLine.objects.get(order__number=f"E-{order_suffix}", product__sku=sku)
        return_create(
            actor=None,
            order_line=line,
            quantity=quantity,
            reason=Return.Reason.OTHER,
            returned_at=T0 + dt.timedelta(days=days),
            refund=Decimal(refund) if refund else None,
        )


def _run(tmp_path: Path, kind: str, name: str, text: str) -> ImportJob:
    path = write(tmp_path, name, text)
    job = import_job_create(
        actor=None, kind=kind, file_name=name, path=str(path), mode=ImportJob.Mode.ALL_OR_NOTHING
    )
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.DONE, (job.status, job.message, job.errors)
    return job


def _imported(tmp_path: Path, customer: Customer) -> None:
    rows = ["Bestellnummer;Kunden-ID;Bestelldatum;Kanal;Artikelnummer;Menge;Einzelpreis"]
    for suffix, days, lines in ORDERS:
        at = _local(T0 + dt.timedelta(days=days))
        for sku, quantity, price in lines:
            rows.append(
                f"I-{suffix};{customer.external_id};{at};shop;{sku};{quantity};"
                f"{price.replace('.', ',')}"
            )
    _run(tmp_path, "orders", "bestellungen.csv", "\n".join(rows) + "\n")
    rows = ["Retourennummer;Bestellnummer;Artikelnummer;Menge;Grund;Datum;Erstattung"]
    for suffix, order_suffix, sku, quantity, days, refund in RETURNS:
        at = _local(T0 + dt.timedelta(days=days))
        rows.append(
            f"I-{suffix};I-{order_suffix};{sku};{quantity};other;{at};{refund.replace('.', ',')}"
        )
    _run(tmp_path, "returns", "retouren.csv", "\n".join(rows) + "\n")


def _plain(reason: str, prefix: str) -> str:
    """A booking's reason without what differs by path (order number prefix, return id)."""
    return re.sub(r"^return \d+ ", "return # ", reason.replace(prefix, "#"))


def _ledger(customer: Customer, prefix: str) -> list[tuple[Any, ...]]:
    acc = LoyaltyAccount.objects.get(customer=customer)
    return [
        (e.kind, e.points, e.shortfall, e.created_at, _plain(e.reason, prefix))
        for e in PointsEntry.objects.filter(account=acc).order_by("created_at", "kind", "points")
    ]


def _state(customer: Customer, prefix: str) -> dict[str, Any]:
    customer.refresh_from_db()
    acc = LoyaltyAccount.objects.select_related("tier").get(customer=customer)
    lots = sorted(
        (lot.earned_at, lot.points, lot.remaining) for lot in PointsLot.objects.filter(account=acc)
    )
    return {
        "first_purchase_at": customer.first_purchase_at,
        "ledger": _ledger(customer, prefix),
        "balance": acc.balance,
        "lots": lots,
        "tier": acc.tier.name if acc.tier else None,
        "timeline": sorted(
            (i.occurred_at, i.kind, i.channel, i.direction, i.summary.replace(prefix, "#"))
            for i in Interaction.objects.filter(customer=customer)
        ),
    }


def test_imported_orders_and_returns_earn_and_give_back_what_created_ones_do(
    tmp_path: Path,
) -> None:
    # given two members with the same program, the same orders and returns for each
    _shop()
    one, bulk = _customers()
    assert one.first_purchase_at is None and bulk.first_purchase_at is None
    # when one gets them through order_create/return_create, the other through import jobs
    _one_by_one(one)
    _imported(tmp_path, bulk)
    # then points, balance, lots, tier, first purchase and timeline are the same
    expected, found = _state(one, "E-"), _state(bulk, "I-")
    assert expected["ledger"], "the single write path books points"
    assert found == expected


def test_imported_orders_of_a_non_member_book_nothing_and_still_mark_the_purchase(
    tmp_path: Path,
) -> None:
    _shop()
    prospect = CustomerFactory(external_id="NEU")
    at = _local(T0)
    _run(
        tmp_path,
        "orders",
        "b.csv",
        f"Bestellnummer;Kunden-ID;Bestelldatum;Artikelnummer;Menge\nN-1;NEU;{at};ZB-1;1\n",
    )
    prospect.refresh_from_db()
    assert prospect.first_purchase_at == T0
    assert not PointsEntry.objects.exists()
