"""Demo data of the campaigns app: a past win-back campaign with a planted effect.

Runs after ``demo_generate``. The generator's own orders give every customer
a realistic baseline after the send; on top of that, *treated* customers
**with earlier returns** buy again with probability ``effect`` within the
horizon — nobody else reacts. So the true average effect is known, and the
evaluation must recover it within its interval while the uplift model must
rank the customers with returns first (tests/campaigns/test_demo.py).

Everything is bulk-inserted (``core.db.bulk_insert``): a 5,000-customer
shop takes well under a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.db.models import Max

from stammkunde.commerce.models import Order, OrderLine, Product, Return
from stammkunde.core.db import bulk_insert, next_id, sequences_reset
from stammkunde.customers.models import Consent, Customer, PhoneNumber

from . import services
from .models import Campaign, CampaignContact
from .numeric.assignment import control_mask

DEMO_NAME = "Demo: Rückgewinnung Frühjahr (Gutschein 15 €)"


@dataclass
class CampaignDemoResult:
    campaign_id: int | None = None
    treatment: int = 0
    control: int = 0
    subgroup_treated: int = 0
    planted_orders: int = 0
    #: Expected response effect (treatment − control) over all contacted customers.
    planted_response_effect: float = 0.0
    #: Expected revenue effect per contacted customer (EUR).
    planted_revenue_effect: float = 0.0
    seconds: float = 0.0


def campaigns_demo_generate(
    *,
    seed: int = 1,
    end: datetime | None = None,
    horizon_days: int = 30,
    effect: float = 0.30,
    control_share: float = 0.2,
    lapsed_days: int = 90,
) -> CampaignDemoResult:
    """Create the past win-back campaign, its contacts and the orders it caused.

    ``end`` is the demo's observation end; the campaign is sent
    ``horizon_days + 15`` days before it, to customers without a purchase in
    the ``lapsed_days`` before the send. Idempotent: a second call does nothing.
    """
    started = time.perf_counter()
    result = CampaignDemoResult()
    if Campaign.objects.filter(name=DEMO_NAME).exists():
        return result
    last = Order.objects.aggregate(m=Max("ordered_at"))["m"]
    if last is None:
        return result
    end = end or last
    sent_at = (end - timedelta(days=horizon_days + 15)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    rng = np.random.default_rng(seed + 7919)
    with transaction.atomic():
        campaign = services.campaign_create(
            actor=None,
            data={
                "name": DEMO_NAME,
                "offer_kind": Campaign.Offer.VOUCHER,
                "offer_value": Decimal("15.00"),
                "channel": Campaign.Channel.EMAIL,
                "subject": "{first_name}, wir vermissen Sie – 15 € Gutschein",
                "body": "Mit dem Code {voucher_code} sparen Sie 15 €.",
                "control_share": Decimal(str(control_share)),
                "horizon_days": horizon_days,
                "cost_per_contact": Decimal("0.05"),
                "offer_cost": Decimal("1.50"),
                "description": "Planted effect: only customers with earlier returns react "
                f"(+{effect:.0%} purchase probability).",
            },
        )
        # A fixed assignment key: the same seed gives the same split on every database.
        campaign.assignment_key = f"demo-{seed}"
        Campaign.objects.filter(pk=campaign.pk).update(
            status=Campaign.Status.FINISHED,
            activated_at=sent_at,
            assignment_key=campaign.assignment_key,
        )
        result.campaign_id = campaign.pk
        _phone_consents(rng, at=sent_at)
        audience = _lapsed(sent_at, lapsed_days)
        if audience.size == 0:
            return result
        control = control_mask(campaign.assignment_key, audience, control_share)
        treated_ids = audience[~control]
        returned = set(
            Return.objects.filter(returned_at__lt=sent_at).values_list("customer_id", flat=True)
        )
        subgroup = np.isin(treated_ids, np.fromiter(returned, dtype=np.int64, count=len(returned)))
        unit = campaign.expected_cost
        bulk_insert(
            CampaignContact,
            [
                "campaign",
                "customer",
                "occasion",
                "group",
                "status",
                "channel",
                "contacted_at",
                "sent_at",
                "cost",
                "reason",
            ],
            (
                (
                    campaign.pk,
                    int(c),
                    "",
                    "control" if ctl else "treatment",
                    "held_out" if ctl else "sent",
                    "email",
                    sent_at,
                    None if ctl else sent_at,
                    Decimal("0") if ctl else unit,
                    "demo",
                )
                for c, ctl in zip(audience.tolist(), control.tolist(), strict=True)
            ),
        )
        baseline = _buyers_in_window(treated_ids[subgroup], sent_at, horizon_days)
        reacts = rng.random(int(subgroup.sum())) < effect
        planted_ids = treated_ids[subgroup][reacts]
        revenue = _orders_plant(planted_ids, sent_at, horizon_days, rng, campaign.pk)
        sequences_reset(CampaignContact, Order, OrderLine)
        n_t = int((~control).sum())
        sub_ids = treated_ids[subgroup]
        not_buying = 1.0 - (np.isin(sub_ids, baseline).mean() if sub_ids.size else 0.0)
        result.treatment, result.control = n_t, int(control.sum())
        result.subgroup_treated = int(subgroup.sum())
        result.planted_orders = int(planted_ids.size)
        result.planted_response_effect = float(subgroup.mean() * effect * not_buying)
        result.planted_revenue_effect = float(subgroup.mean() * effect * revenue)
    result.seconds = time.perf_counter() - started
    return result


def _lapsed(sent_at: datetime, lapsed_days: int) -> np.ndarray:
    """Customers who bought before but not in the ``lapsed_days`` before the send."""
    recent = Order.objects.filter(
        ordered_at__gte=sent_at - timedelta(days=lapsed_days), ordered_at__lt=sent_at
    ).values("customer_id")
    ids = (
        Customer.objects.filter(first_purchase_at__lt=sent_at, merged_into__isnull=True)
        .exclude(pk__in=recent)
        .values_list("pk", flat=True)
    )
    return np.asarray(sorted(ids), dtype=np.int64)


def _buyers_in_window(ids: np.ndarray, start: datetime, days: int) -> np.ndarray:
    found = Order.objects.filter(
        customer_id__in=ids.tolist(),
        ordered_at__gt=start,
        ordered_at__lte=start + timedelta(days=days),
        status=Order.Status.PAID,
    ).values_list("customer_id", flat=True)
    return np.asarray(sorted(set(found)), dtype=np.int64)


def _orders_plant(
    ids: np.ndarray, start: datetime, days: int, rng: np.random.Generator, campaign_id: int
) -> float:
    """Insert one order per reacting customer within the horizon; return the mean order value."""
    products = list(
        Product.objects.filter(active=True, is_service=False, price__lte=400).order_by("id")
    )
    if not products or ids.size == 0:
        return 0.0
    order_id, line_id = next_id(Order), next_id(OrderLine)
    choice = rng.integers(0, len(products), ids.size)
    offsets = rng.uniform(0.5, days - 0.5, ids.size)
    orders, lines, totals = [], [], []
    for k, (cid, p, off) in enumerate(
        zip(ids.tolist(), choice.tolist(), offsets.tolist(), strict=True)
    ):
        product = products[p]
        at = start + timedelta(days=off)
        orders.append(
            (
                order_id + k,
                f"WB{campaign_id}-{k + 1:06d}",
                int(cid),
                at,
                "shop",
                "paid",
                "EUR",
                product.price,
            )
        )
        lines.append((line_id + k, order_id + k, product.pk, 1, product.price, product.price))
        totals.append(float(product.price))
    bulk_insert(
        Order,
        ["id", "number", "customer", "ordered_at", "channel", "status", "currency", "total"],
        orders,
    )
    bulk_insert(
        OrderLine, ["id", "order", "product", "quantity", "unit_price", "line_total"], lines
    )
    # The expected value of a planted order (catalogue mean), not this draw's mean.
    return float(np.mean([float(p.price) for p in products]))


def _phone_consents(rng: np.random.Generator, *, at: datetime) -> None:
    """Give a third of the customers with a phone number consent to calls (for the playbook)."""
    with_phone = np.asarray(
        sorted(set(PhoneNumber.objects.values_list("customer_id", flat=True))), dtype=np.int64
    )
    chosen = with_phone[rng.random(with_phone.size) < 1 / 3]
    if not chosen.size:
        return
    created = dict(Customer.objects.filter(pk__in=chosen.tolist()).values_list("pk", "created_at"))
    start = next_id(Consent)
    bulk_insert(
        Consent,
        ["id", "customer", "purpose", "channel", "status", "source", "at", "proof"],
        (
            (
                start + i,
                int(c),
                "marketing",
                "phone",
                "granted",
                "shop account",
                min(created[int(c)], at),
                "ticked in the customer account",
            )
            for i, c in enumerate(chosen.tolist())
        ),
    )
    sequences_reset(Consent)
