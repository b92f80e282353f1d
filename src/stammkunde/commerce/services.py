"""Writes to products, orders, returns and subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import transaction

from stammkunde.core.access import User
from stammkunde.core.errors import ApplicationError, validated
from stammkunde.core.hooks import hook_run
from stammkunde.customers.selectors import Channel, InteractionDirection
from stammkunde.customers.services import customer_mark_purchase, interaction_record

from .models import Order, OrderLine, Product, ProductCategory, Return

if TYPE_CHECKING:
    from stammkunde.customers.models import Customer

# The bulk writes (imports) are part of this public face.
from .services_bulk import (
    ORDER_CHANNEL_TO_CONTACT,
    SUBSCRIPTION_FIELDS,  # noqa: F401
    OrderDraft,  # noqa: F401
    ReturnDraft,  # noqa: F401
    order_content_type_id,  # noqa: F401
    order_ids_reserve,  # noqa: F401
    orders_bulk_create,  # noqa: F401
    orders_copy_texts,  # noqa: F401
    orders_mark_purchase,  # noqa: F401
    orders_set_based_checks_allowed,  # noqa: F401
    products_bulk_upsert,  # noqa: F401
    returns_bulk_create,  # noqa: F401
    subscriptions_bulk_upsert,  # noqa: F401
)
from .timeline import (
    ORDER_TEXT,
    RETURN_TEXT,
    order_text_params,
    return_text_params,
)

CENT = Decimal("0.01")


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal | None = None


def money(value: object, *, field: str) -> Decimal:
    """Return ``value`` as a non-negative euro amount with two decimals."""
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError) as exc:
        raise ApplicationError(
            f"{field}: not an amount", field_errors={field: ["Not an amount."]}
        ) from exc
    if amount < 0:
        raise ApplicationError(
            f"{field}: must not be negative", field_errors={field: ["Must not be negative."]}
        )
    return amount


@transaction.atomic
def product_create(
    *, sku: str, name: str, category_name: str, price: object, is_service: bool = False
) -> Product:
    """Create a product in a category (the category is created on first use)."""
    category, _ = ProductCategory.objects.get_or_create(name=category_name.strip())
    product = Product(
        sku=sku.strip(),
        name=name.strip(),
        category=category,
        price=money(price, field="price"),
        is_service=is_service,
    )
    validated(product)
    product.save()
    return product


_ORDER_CHANNEL_TO_CONTACT = ORDER_CHANNEL_TO_CONTACT


@transaction.atomic
def order_create(
    *,
    actor: User | None,
    customer: Customer,
    number: str,
    ordered_at: datetime,
    lines: list[LineInput],
    channel: str = Order.Channel.SHOP,
    currency: str = "EUR",
    external_id: str | None = None,
) -> tuple[Order, bool]:
    """Create an order with lines; replaying the same number returns the stored order.

    Returns ``(order, created)``. Raises ApplicationError for unknown products,
    a currency other than EUR or lines without quantity.
    """
    existing = Order.objects.filter(number=number).first()
    if existing is not None:
        if existing.customer_id != customer.pk:
            raise ApplicationError(
                "This order number belongs to another customer.",
                code="order_number_taken",
                field_errors={"number": ["Already used."]},
            )
        return existing, False
    if currency != "EUR":
        raise ApplicationError("Only EUR is supported.", field_errors={"currency": ["Only EUR."]})
    if not lines:
        raise ApplicationError(
            "An order needs at least one line.", field_errors={"lines": ["At least one line."]}
        )
    products = {p.sku: p for p in Product.objects.filter(sku__in=[line.sku for line in lines])}
    missing = sorted({line.sku for line in lines} - products.keys())
    if missing:
        raise ApplicationError(
            f"Unknown product(s): {', '.join(missing)}",
            field_errors={"lines": [f"Unknown SKU {s}." for s in missing]},
        )
    order = Order(
        number=number,
        customer=customer,
        ordered_at=ordered_at,
        channel=channel,
        currency=currency,
        total=Decimal("0.00"),
        external_id=external_id or None,
    )
    validated(order)
    order.save()
    rows = []
    for i, line in enumerate(lines, start=1):
        if line.quantity < 1:
            raise ApplicationError(
                f"line {i}: quantity must be at least 1",
                field_errors={"lines": [f"Line {i}: quantity < 1."]},
            )
        price = (
            products[line.sku].price
            if line.unit_price is None
            else money(line.unit_price, field=f"lines[{i}].unit_price")
        )
        rows.append(
            OrderLine(
                order=order,
                product=products[line.sku],
                quantity=line.quantity,
                unit_price=price,
                line_total=(price * line.quantity).quantize(CENT),
            )
        )
    OrderLine.objects.bulk_create(rows)
    order.total = sum((r.line_total for r in rows), Decimal("0.00"))
    order.save(update_fields=["total"])
    customer_mark_purchase(customer=customer, at=ordered_at)
    interaction_record(
        customer=customer,
        occurred_at=ordered_at,
        channel=_ORDER_CHANNEL_TO_CONTACT.get(channel, Channel.WEB),
        direction=InteractionDirection.INBOUND,
        kind="purchase",
        text_key=ORDER_TEXT,
        text_params=order_text_params(number=number, total=order.total),
        source=order,
        actor=actor,
    )
    hook_run("order_created", order=order)
    return order, True


@transaction.atomic
def return_create(
    *,
    actor: User | None,
    order_line: OrderLine,
    quantity: int,
    reason: str,
    returned_at: datetime,
    refund: object | None = None,
    external_id: str | None = None,
) -> Return:
    """Record a return of (part of) an order line; never more than was bought."""
    if external_id and (found := Return.objects.filter(external_id=external_id).first()):
        return found
    line = OrderLine.objects.select_for_update().select_related("order").get(pk=order_line.pk)
    already = sum(line.returns.values_list("quantity", flat=True))
    if quantity < 1 or quantity + already > line.quantity:
        raise ApplicationError(
            f"Only {line.quantity - already} of this line can still be returned.",
            field_errors={"quantity": ["More than was bought."]},
        )
    amount = (line.unit_price * quantity) if refund is None else money(refund, field="refund")
    ret = Return(
        order_line=line,
        customer_id=line.order.customer_id,
        quantity=quantity,
        reason=reason,
        returned_at=returned_at,
        refund=amount,
        external_id=external_id or None,
    )
    validated(ret)
    ret.save()
    interaction_record(
        customer=line.order.customer,
        occurred_at=returned_at,
        channel=Channel.WEB,
        direction=InteractionDirection.INBOUND,
        kind="return",
        text_key=RETURN_TEXT,
        text_params=return_text_params(order_number=line.order.number, reason=ret.reason),
        source=ret,
        actor=actor,
    )
    hook_run("return_created", ret=ret)
    return ret


@transaction.atomic
def order_status_set(*, order: Order, status: str) -> bool:
    """Set an order's status (paid or cancelled); return whether it changed."""
    if status not in Order.Status.values:
        raise ApplicationError("Unknown status.", field_errors={"status": ["Unknown."]})
    if status == order.status:
        return False
    order.status = status
    order.save(update_fields=["status"])
    return True
