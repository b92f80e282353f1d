"""The demo shop: a German bicycle shop with a workshop and a known truth.

Customers buy by a heterogeneous buy-till-you-die process (the BG/NBD story):
each has a purchase rate drawn from a Gamma and, after every purchase, drops
out with a probability drawn from a Beta. The true dropout date is stored in
``CustomerTruth`` so that analytics can be validated against it. Customers who
are prone to drop out also have more returns, so that service signals carry
real information. Everything is generated vectorised per chunk and written
with set-based inserts, so 1M customers are possible.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from stammkunde.commerce.models import (
    Order,
    OrderLine,
    Product,
    ProductCategory,
    Return,
    Subscription,
)
from stammkunde.commerce.services import (
    ORDER_TEXT,
    RETURN_TEXT,
    order_text_params,
    return_text_params,
)
from stammkunde.core.db import bulk_insert, next_id, sequences_reset
from stammkunde.core.sequences import counter_raise_to
from stammkunde.customers.models import (
    Address,
    Consent,
    Customer,
    EmailAddress,
    Interaction,
    PhoneNumber,
)
from stammkunde.customers.normalize import search_text
from stammkunde.customers.services import timeline_texts_summaries

from .models import CustomerTruth
from .names import CATALOGUE, CITIES, COMPANY_WORDS, FIRST_NAMES, LAST_NAMES, STREETS

DAY_US = 86_400_000_000
RETURN_REASONS = np.array([r.value for r in Return.Reason])
RETURN_REASON_WEIGHTS = np.array([0.3, 0.1, 0.2, 0.2, 0.12, 0.05, 0.03])
CANCEL_REASONS = np.array(
    ["zu teuer", "Umzug", "unzufrieden mit Service", "nutze es kaum", "Konkurrenzangebot"]
)


@dataclass
class DemoResult:
    customers: int = 0
    orders: int = 0
    order_lines: int = 0
    returns: int = 0
    subscriptions: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def customers_per_second(self) -> float:
        return self.customers / self.seconds if self.seconds else 0.0


def _ascii(name: str) -> str:
    table = str.maketrans(
        {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
    )
    text = unicodedata.normalize("NFKD", name.translate(table))
    return "".join(c for c in text if c.isascii() and c.isalnum()).lower()


def catalogue_ensure() -> list[Product]:
    """Create the demo catalogue once and return it in catalogue order."""
    categories = {}
    for name in dict.fromkeys(c[2] for c in CATALOGUE):
        categories[name], _ = ProductCategory.objects.get_or_create(name=name)
    products = []
    for sku, name, category, price, is_service in CATALOGUE:
        product, _ = Product.objects.get_or_create(
            sku=sku,
            defaults={
                "name": name,
                "category": categories[category],
                "price": Decimal(price),
                "is_service": is_service,
            },
        )
        products.append(product)
    return products


def _us(dt: datetime) -> int:
    return int(dt.timestamp() * 1_000_000)


def _dt(us: np.ndarray) -> list[datetime]:
    """Microseconds since the epoch to naive UTC datetimes (what the adapters expect)."""
    return us.astype("datetime64[us]").tolist()  # type: ignore[no-any-return]


def _cents(values: np.ndarray) -> list[Decimal]:
    return [Decimal(int(v)).scaleb(-2) for v in values]


def demo_generate(
    *,
    customers: int,
    seed: int,
    end: datetime,
    years: float = 3.0,
    chunk_size: int = 20_000,
    on_progress: Callable[[int], None] | None = None,
) -> DemoResult:
    """Generate ``customers`` demo customers with their purchases up to ``end``.

    Deterministic for a given ``seed``, ``end`` and chunk size. Each chunk is one
    transaction; ``on_progress`` receives the number of customers written.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    products = catalogue_ensure()
    prod_ids = np.array([p.pk for p in products])
    prod_cents = np.array([int(p.price * 100) for p in products])
    prod_service = np.array([p.is_service for p in products])
    # Cheap items sell more often than bikes.
    base_w = prod_cents.astype(float) ** -0.75
    base_w /= base_w.sum()
    pricey_w = np.where(prod_cents > 20000, 1.0, 0.05)
    pricey_w /= pricey_w.sum()
    end_us = _us(end.astimezone(UTC))
    start_us = (end_us // DAY_US - int(years * 365.25)) * DAY_US
    order_ct = ContentType.objects.get_for_model(Order)
    return_ct = ContentType.objects.get_for_model(Return)

    result = DemoResult()
    ids = {
        m: next_id(m)
        for m in (
            Customer,
            Order,
            OrderLine,
            Return,
            Subscription,
            EmailAddress,
            PhoneNumber,
            Address,
            Consent,
            Interaction,
        )
    }
    for offset in range(0, customers, chunk_size):
        n = min(chunk_size, customers - offset)
        with transaction.atomic():
            counts = _chunk(
                rng,
                n,
                ids,
                start_us=start_us,
                end_us=end_us,
                prod_ids=prod_ids,
                prod_cents=prod_cents,
                prod_service=prod_service,
                base_w=base_w,
                pricey_w=pricey_w,
                order_ct=order_ct.pk,
                return_ct=return_ct.pk,
                end=end,
            )
        for key, value in counts.items():
            result.counts[key] = result.counts.get(key, 0) + value
        result.customers += n
        if on_progress:
            on_progress(n)
    sequences_reset(
        Customer,
        Order,
        OrderLine,
        Return,
        Subscription,
        EmailAddress,
        PhoneNumber,
        Address,
        Consent,
        Interaction,
    )
    counter_raise_to("customer", ids[Customer] - 1)
    result.orders = result.counts.get("orders", 0)
    result.order_lines = result.counts.get("lines", 0)
    result.returns = result.counts.get("returns", 0)
    result.subscriptions = result.counts.get("subscriptions", 0)
    result.seconds = time.perf_counter() - started
    return result


def _chunk(
    rng: np.random.Generator,
    n: int,
    ids: dict[Any, int],
    *,
    start_us: int,
    end_us: int,
    prod_ids: np.ndarray,
    prod_cents: np.ndarray,
    prod_service: np.ndarray,
    base_w: np.ndarray,
    pricey_w: np.ndarray,
    order_ct: int,
    return_ct: int,
    end: datetime,
) -> dict[str, int]:
    cid = np.arange(ids[Customer], ids[Customer] + n)
    ids[Customer] += n
    # --- who they are
    is_company = rng.random(n) < 0.08
    first = rng.choice(FIRST_NAMES, n)
    last = rng.choice(LAST_NAMES, n)
    company = np.where(
        is_company,
        [f"{w} {ln} GmbH" for w, ln in zip(rng.choice(COMPANY_WORDS, n), last, strict=True)],
        "",
    )
    prospect = rng.random(n) < 0.12
    span = end_us - start_us
    created = (
        start_us
        + rng.integers(0, (span - 30 * DAY_US) // DAY_US, n) * DAY_US
        + rng.integers(8, 19, n) * 3_600_000_000
    )
    # --- the true buying process (BG/NBD)
    rate_per_year = rng.gamma(shape=1.3, scale=4.5 / 1.3, size=n)
    dropout_p = rng.beta(1.1, 5.0, size=n)
    spender = rng.random(n) < 0.15
    alive = ~prospect
    t = created.copy()
    dropped = np.full(n, -1, dtype=np.int64)
    buy_c: list[np.ndarray] = []
    buy_t: list[np.ndarray] = []
    active = alive & (t <= end_us)
    for _ in range(200):
        if not active.any():
            break
        idx = np.flatnonzero(active)
        buy_c.append(idx)
        buy_t.append(t[idx])
        drop = rng.random(idx.size) < dropout_p[idx]
        dropped[idx[drop]] = t[idx[drop]]
        alive[idx[drop]] = False
        gap = rng.exponential(365.25 / rate_per_year[idx]) * DAY_US
        t[idx] = t[idx] + gap.astype(np.int64)
        active = alive & (t <= end_us)
    oc = np.concatenate(buy_c) if buy_c else np.zeros(0, dtype=np.int64)
    ot = np.concatenate(buy_t) if buy_t else np.zeros(0, dtype=np.int64)
    order_ids = np.arange(ids[Order], ids[Order] + oc.size)
    ids[Order] += oc.size
    # --- order lines
    n_lines = np.minimum(1 + rng.poisson(0.7, oc.size), 5)
    line_order = np.repeat(np.arange(oc.size), n_lines)
    line_cust = oc[line_order]
    pick_base = rng.choice(prod_ids.size, line_order.size, p=base_w)
    pick_pricey = rng.choice(prod_ids.size, line_order.size, p=pricey_w)
    use_pricey = spender[line_cust] & (rng.random(line_order.size) < 0.25)
    prod_idx = np.where(use_pricey, pick_pricey, pick_base)
    qty = 1 + (rng.random(line_order.size) < 0.08).astype(np.int64)
    line_cents = prod_cents[prod_idx] * qty
    order_cents = np.bincount(line_order, weights=line_cents, minlength=oc.size).astype(np.int64)
    line_ids = np.arange(ids[OrderLine], ids[OrderLine] + line_order.size)
    ids[OrderLine] += line_order.size
    # --- returns: more likely for customers prone to drop out (a planted signal)
    ret_mask = (~prod_service[prod_idx]) & (
        rng.random(line_order.size) < 0.02 + 0.35 * dropout_p[line_cust]
    )
    ret_time = ot[line_order] + rng.integers(3, 21, line_order.size) * DAY_US
    ret_mask &= ret_time <= end_us
    ret_lines = np.flatnonzero(ret_mask)
    ret_ids = np.arange(ids[Return], ids[Return] + ret_lines.size)
    ids[Return] += ret_lines.size
    ret_reason = rng.choice(RETURN_REASONS, ret_lines.size, p=RETURN_REASON_WEIGHTS)

    first_purchase = np.full(n, -1, dtype=np.int64)
    first_purchase[~prospect] = created[~prospect]
    cust_db = cid.tolist()
    created_dt = _dt(created)
    first_dt = _dt(np.where(first_purchase >= 0, first_purchase, 0))
    bulk_insert(
        Customer,
        [
            "id",
            "number",
            "kind",
            "salutation",
            "first_name",
            "last_name",
            "company_name",
            "search_name",
            "preferred_language",
            "preferred_channel",
            "value_class",
            "created_at",
            "first_purchase_at",
            "version",
        ],
        (
            (
                c,
                f"K{c:07d}",
                "company" if co else "person",
                "",
                fn,
                ln,
                cn,
                search_text(ln, fn, cn),
                "en" if (c % 17 == 0) else "de",
                "email",
                "",
                cr,
                fp if has_fp else None,
                1,
            )
            for c, co, fn, ln, cn, cr, fp, has_fp in zip(
                cust_db,
                is_company.tolist(),
                first.tolist(),
                last.tolist(),
                company.tolist(),
                created_dt,
                first_dt,
                (first_purchase >= 0).tolist(),
                strict=True,
            )
        ),
    )
    email_ids = range(ids[EmailAddress], ids[EmailAddress] + n)
    ids[EmailAddress] += n
    bulk_insert(
        EmailAddress,
        ["id", "customer", "address", "is_primary"],
        (
            (e, c, f"{_ascii(fn)}.{_ascii(ln)}.{c}@example.de", True)
            for e, c, fn, ln in zip(email_ids, cust_db, first.tolist(), last.tolist(), strict=True)
        ),
    )
    has_phone = np.flatnonzero(rng.random(n) < 0.7)
    phone_digits = rng.integers(10_000_000, 99_999_999, has_phone.size)
    bulk_insert(
        PhoneNumber,
        ["id", "customer", "number", "kind", "is_primary"],
        (
            (ids[PhoneNumber] + i, int(cid[j]), f"+49151{d}", "mobile", True)
            for i, (j, d) in enumerate(zip(has_phone.tolist(), phone_digits.tolist(), strict=True))
        ),
    )
    ids[PhoneNumber] += has_phone.size
    city = rng.integers(0, len(CITIES), n)
    street = rng.choice(STREETS, n)
    house = rng.integers(1, 120, n)
    bulk_insert(
        Address,
        ["id", "customer", "kind", "street", "postal_code", "city", "country"],
        (
            (ids[Address] + i, c, "billing", f"{s} {h}", CITIES[k][0], CITIES[k][1], "DE")
            for i, (c, s, h, k) in enumerate(
                zip(cust_db, street.tolist(), house.tolist(), city.tolist(), strict=True)
            )
        ),
    )
    ids[Address] += n
    # --- consents given at checkout with double opt-in
    marketing = np.flatnonzero(rng.random(n) < 0.55)
    feedback = np.flatnonzero(rng.random(n) < 0.75)
    consent_rows = []
    for purpose, who in (("marketing", marketing), ("feedback", feedback)):
        for j in who.tolist():
            consent_rows.append(
                (
                    ids[Consent],
                    int(cid[j]),
                    purpose,
                    "email",
                    "granted",
                    "shop checkout (double opt-in)",
                    created_dt[j],
                    "DOI confirmed by link in confirmation mail",
                )
            )
            ids[Consent] += 1
    bulk_insert(
        Consent,
        ["id", "customer", "purpose", "channel", "status", "source", "at", "proof"],
        consent_rows,
    )
    # --- orders, lines, returns
    channel = rng.choice(np.array(["shop", "pos", "phone"]), oc.size, p=[0.6, 0.35, 0.05])
    order_dt = _dt(ot)
    oid_list = order_ids.tolist()
    bulk_insert(
        Order,
        ["id", "number", "customer", "ordered_at", "channel", "status", "currency", "total"],
        (
            (o, f"B{o:08d}", int(cid[c]), t_, ch, "paid", "EUR", Decimal(int(tot)).scaleb(-2))
            for o, c, t_, ch, tot in zip(
                oid_list, oc.tolist(), order_dt, channel.tolist(), order_cents.tolist(), strict=True
            )
        ),
    )
    bulk_insert(
        OrderLine,
        ["id", "order", "product", "quantity", "unit_price", "line_total"],
        (
            (
                li,
                int(order_ids[lo]),
                int(prod_ids[p]),
                q,
                Decimal(int(prod_cents[p])).scaleb(-2),
                Decimal(int(lc)).scaleb(-2),
            )
            for li, lo, p, q, lc in zip(
                line_ids.tolist(),
                line_order.tolist(),
                prod_idx.tolist(),
                qty.tolist(),
                line_cents.tolist(),
                strict=True,
            )
        ),
    )
    ret_dt = _dt(ret_time[ret_lines])
    bulk_insert(
        Return,
        ["id", "order_line", "customer", "returned_at", "quantity", "reason", "refund"],
        (
            (
                r,
                int(line_ids[li]),
                int(cid[line_cust[li]]),
                rt,
                int(qty[li]),
                reason,
                Decimal(int(line_cents[li])).scaleb(-2),
            )
            for r, li, rt, reason in zip(
                ret_ids.tolist(), ret_lines.tolist(), ret_dt, ret_reason.tolist(), strict=True
            )
        ),
    )
    # --- subscriptions: a workshop flat rate
    subs = np.flatnonzero((~prospect) & (rng.random(n) < 0.12))
    sub_start = created[subs] + rng.integers(0, 90, subs.size) * DAY_US
    keep = sub_start <= end_us
    subs, sub_start = subs[keep], sub_start[keep]
    cancel = np.where(
        dropped[subs] >= 0,
        np.maximum(dropped[subs], sub_start) + rng.integers(0, 60, subs.size) * DAY_US,
        -1,
    )
    cancel = np.where(cancel > end_us, -1, cancel)
    start_dates = [d.date() for d in _dt(sub_start)]
    cancel_dates = [
        d.date() if c >= 0 else None
        for d, c in zip(_dt(np.maximum(cancel, 0)), cancel.tolist(), strict=True)
    ]
    reasons = rng.choice(CANCEL_REASONS, subs.size).tolist()
    sub_rows = [
        (
            ids[Subscription] + i,
            int(cid[j]),
            "Werkstatt-Flatrate",
            Decimal("9.90"),
            sd,
            cd,
            cd,
            reason if cd else "",
        )
        for i, (j, sd, cd, reason) in enumerate(
            zip(subs.tolist(), start_dates, cancel_dates, reasons, strict=True)
        )
    ]
    ids[Subscription] += len(sub_rows)
    bulk_insert(
        Subscription,
        [
            "id",
            "customer",
            "plan",
            "monthly_amount",
            "started_at",
            "ends_at",
            "cancelled_at",
            "cancellation_reason",
        ],
        sub_rows,
    )
    # --- the timeline: one entry per purchase and return (text keys as commerce writes them)
    web = {"shop": "web", "pos": "shop", "phone": "phone"}
    order_params = [
        order_text_params(number=f"B{o:08d}", total=Decimal(int(tot)).scaleb(-2))
        for o, tot in zip(oid_list, order_cents.tolist(), strict=True)
    ]
    inter = [
        (
            ids[Interaction] + i,
            int(cid[c]),
            t_,
            web[ch],
            "in",
            "purchase",
            summary,
            order_ct,
            str(o),
            ORDER_TEXT,
            params,
        )
        for i, (o, c, t_, ch, summary, params) in enumerate(
            zip(
                oid_list,
                oc.tolist(),
                order_dt,
                channel.tolist(),
                timeline_texts_summaries(ORDER_TEXT, order_params),
                order_params,
                strict=True,
            )
        )
    ]
    ids[Interaction] += len(inter)
    return_params = [
        return_text_params(order_number=f"B{o:08d}", reason=reason)
        for o, reason in zip(
            order_ids[line_order[ret_lines]].tolist(), ret_reason.tolist(), strict=True
        )
    ]
    inter += [
        (
            ids[Interaction] + i,
            int(cid[line_cust[li]]),
            rt,
            "web",
            "in",
            "return",
            summary,
            return_ct,
            str(r),
            RETURN_TEXT,
            params,
        )
        for i, (r, li, rt, summary, params) in enumerate(
            zip(
                ret_ids.tolist(),
                ret_lines.tolist(),
                ret_dt,
                timeline_texts_summaries(RETURN_TEXT, return_params),
                return_params,
                strict=True,
            )
        )
    ]
    ids[Interaction] += ret_lines.size
    bulk_insert(
        Interaction,
        [
            "id",
            "customer",
            "occurred_at",
            "channel",
            "direction",
            "kind",
            "summary",
            "source_type",
            "source_id",
            "text_key",
            "text_params",
        ],
        inter,
    )
    end_naive = end.astimezone(UTC).replace(tzinfo=None)
    dropped_dt = _dt(np.where(dropped >= 0, dropped, 0))
    bulk_insert(
        CustomerTruth,
        [
            "customer",
            "purchase_rate_per_year",
            "dropout_probability",
            "dropped_out_at",
            "observation_end",
        ],
        (
            (c, float(r), float(p), d if dr >= 0 else None, end_naive)
            for c, r, p, d, dr in zip(
                cust_db,
                rate_per_year.tolist(),
                dropout_p.tolist(),
                dropped_dt,
                dropped.tolist(),
                strict=True,
            )
        ),
    )
    return {
        "orders": int(oc.size),
        "lines": int(line_order.size),
        "returns": int(ret_lines.size),
        "subscriptions": len(sub_rows),
    }


def default_end() -> datetime:
    """The observation end: today at midnight UTC (pass ``end`` for reproducible data)."""
    today = datetime.now(UTC).date()
    return datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(seconds=1)
