"""Real-time ingest of orders and returns pushed by a shop or POS, idempotent by external id.

Update rule for a repeated external id:

* the same content again: nothing changes, the stored record is returned (200);
* an order whose only change is ``status`` (paid → cancelled): the status is
  updated (200);
* any other change (customer, date, lines, prices): refused with 409 — a
  changed order must come with a new external id or be corrected by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from stammkunde.commerce.selectors import (
    OrderChannel,
    OrderStatus,
    order_by_external_id,
    order_line_fingerprint,
    order_lines_with_left,
    product_prices,
    return_by_external_id,
)
from stammkunde.commerce.services import (
    LineInput,
    order_create,
    order_status_set,
    return_create,
)
from stammkunde.core.access import User
from stammkunde.core.errors import ApplicationError, ConflictError
from stammkunde.customers.selectors import customer_by_external_id
from stammkunde.customers.services import customer_create

if TYPE_CHECKING:
    from stammkunde.commerce.models import Order
    from stammkunde.customers.models import Customer

from .webhooks import webhook_emit

CENT = Decimal("0.01")


@dataclass
class IngestResult:
    obj: Any
    outcome: str  # "created", "unchanged" or "updated"


def _fingerprint_lines(lines: list[tuple[str, int, Decimal]]) -> list[tuple[str, int, Decimal]]:
    return sorted((sku, qty, price.quantize(CENT)) for sku, qty, price in lines)


def _customer_for(*, actor: User | None, data: dict[str, Any]) -> Customer:
    external_id = data["customer_external_id"]
    customer = customer_by_external_id(external_id=external_id)
    if customer is not None:
        return customer
    details = data.get("customer") or {}
    if not details:
        raise ApplicationError(
            f"Unknown customer “{external_id}”.",
            code="unknown_customer",
            field_errors={
                "customer_external_id": ["Unknown customer; send “customer” to create it."]
            },
        )
    customer = customer_create(
        actor=actor,
        external_id=external_id,
        kind=details.get("kind") or "person",
        first_name=details.get("first_name", ""),
        last_name=details.get("last_name", ""),
        company_name=details.get("company_name", ""),
        emails=[details["email"]] if details.get("email") else [],
        phones=[details["phone"]] if details.get("phone") else [],
    )
    webhook_emit(
        event="customer.created",
        payload={
            "items": [
                {
                    "id": customer.pk,
                    "number": customer.number,
                    "external_id": external_id,
                    "source": "api",
                }
            ]
        },
    )
    return customer


def _same_order(order: Order, data: dict[str, Any]) -> bool:
    stored = order_line_fingerprint(order=order)
    prices = product_prices(skus=[line["sku"] for line in data["lines"]])
    sent = [
        (
            line["sku"],
            line["quantity"],
            line.get("unit_price")
            if line.get("unit_price") is not None
            else prices.get(line["sku"], Decimal("-1")),
        )
        for line in data["lines"]
    ]
    return (
        order.customer.external_id == data["customer_external_id"]
        and order.ordered_at == data["ordered_at"]
        and order.number == (data.get("number") or data["external_id"])
        and order.currency == data.get("currency", "EUR")
        and _fingerprint_lines(stored) == _fingerprint_lines(sent)
    )


@transaction.atomic
def order_ingest(*, actor: User | None, data: dict[str, Any]) -> IngestResult:
    """Store an order pushed by a shop/POS; a replay of the same external id changes nothing.

    ``data`` is validated input: external_id, number (optional), customer_external_id,
    customer (optional details to create an unknown customer), ordered_at, channel,
    status, currency, lines [{sku, quantity, unit_price?}]. Raises ConflictError (409)
    when the external id is known with different content, ApplicationError (400) for
    unknown products, customers or currencies.
    """
    existing = order_by_external_id(external_id=data["external_id"], for_update=True)
    if existing is not None:
        return _order_replay(existing, data)
    customer = _customer_for(actor=actor, data=data)
    try:
        with transaction.atomic():
            order, created = order_create(
                actor=actor,
                customer=customer,
                number=data.get("number") or data["external_id"],
                ordered_at=data["ordered_at"],
                lines=[
                    LineInput(
                        sku=line["sku"],
                        quantity=line["quantity"],
                        unit_price=line.get("unit_price"),
                    )
                    for line in data["lines"]
                ],
                channel=data.get("channel") or OrderChannel.SHOP,
                currency=data.get("currency") or "EUR",
                external_id=data["external_id"],
            )
    except IntegrityError:
        # A concurrent request stored the same order first: answer as a replay.
        existing = order_by_external_id(external_id=data["external_id"])
        assert existing is not None  # the unique key just refused a twin
        return _order_replay(existing, data)
    if not created:
        raise ConflictError(
            f"Order number {order.number} is stored under another external id.", code="number_taken"
        )
    order_status_set(order=order, status=data.get("status") or OrderStatus.PAID)
    webhook_emit(
        event="order.imported",
        payload={
            "items": [
                {
                    "id": order.pk,
                    "external_id": order.external_id,
                    "number": order.number,
                    "customer_id": customer.pk,
                    "total": str(order.total),
                    "currency": order.currency,
                }
            ],
            "source": "api",
        },
    )
    return IngestResult(order, "created")


def _order_replay(order: Order, data: dict[str, Any]) -> IngestResult:
    if not _same_order(order, data):
        raise ConflictError(
            f"Order {order.external_id} is stored with different content; "
            "only its status may change.",
            code="ingest_conflict",
        )
    if order_status_set(order=order, status=data.get("status") or order.status):
        return IngestResult(order, "updated")
    return IngestResult(order, "unchanged")


@transaction.atomic
def return_ingest(*, actor: User | None, data: dict[str, Any]) -> IngestResult:
    """Store a return pushed by a shop/POS; a replay with the same content changes nothing.

    ``data``: external_id, order_external_id, sku, quantity, reason, returned_at,
    refund (optional). The first line of the order with that SKU and enough
    quantity left is returned. Raises ConflictError for a changed replay.
    """
    existing = return_by_external_id(external_id=data["external_id"])
    if existing is not None:
        same = (
            existing.order_line.product.sku == data["sku"]
            and existing.quantity == data["quantity"]
            and existing.reason == data["reason"]
            and existing.returned_at == data["returned_at"]
            and (data.get("refund") is None or existing.refund == data["refund"])
        )
        if not same:
            raise ConflictError(
                f"Return {existing.external_id} is stored with different content.",
                code="ingest_conflict",
            )
        return IngestResult(existing, "unchanged")
    order = order_by_external_id(external_id=data["order_external_id"])
    if order is None:
        raise ApplicationError(
            "Unknown order.",
            code="unknown_order",
            field_errors={"order_external_id": ["Unknown order."]},
        )
    lines = order_lines_with_left(order=order, sku=data["sku"])
    if not lines:
        raise ApplicationError(
            "The order has no line with this product.", field_errors={"sku": ["Not in this order."]}
        )
    line = next((item for item, left in lines if left >= data["quantity"]), lines[0][0])
    ret = return_create(
        actor=actor,
        order_line=line,
        quantity=data["quantity"],
        reason=data["reason"],
        returned_at=data["returned_at"],
        refund=data.get("refund"),
        external_id=data["external_id"],
    )
    webhook_emit(
        event="return.imported",
        payload={
            "items": [
                {
                    "id": ret.pk,
                    "external_id": ret.external_id,
                    "order": order.number,
                    "customer_id": ret.customer_id,
                    "refund": str(ret.refund),
                }
            ],
            "source": "api",
        },
    )
    return IngestResult(ret, "created")
