"""Customer features for the uplift model, the expected uplift and customer values."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from django.db.models import Count, Max, Sum

from ..models import Campaign
from ..numeric.uplift import TLearnerUplift
from ._common import default_value

FEATURE_NAMES = ("has_returns", "log_days_since_last_order", "log_orders", "log_revenue")


def customer_features(customer_ids: np.ndarray, *, as_of: datetime) -> np.ndarray:
    """Return the uplift features (n, 4) of customers from orders and returns before ``as_of``."""
    from stammkunde.commerce.models import Order, Return

    ids = np.asarray(customer_ids, dtype=np.int64)
    index = {int(c): i for i, c in enumerate(ids)}
    X = np.zeros((ids.size, len(FEATURE_NAMES)))
    X[:, 1] = np.log1p(3650)
    id_list = ids.tolist()
    for lo in range(0, len(id_list), 20_000):
        part = id_list[lo : lo + 20_000]
        orders = (
            Order.objects.filter(
                customer_id__in=part, status=Order.Status.PAID, ordered_at__lt=as_of
            )
            .values("customer_id")
            .annotate(n=Count("id"), revenue=Sum("total"), last=Max("ordered_at"))
        )
        for row in orders:
            i = index[row["customer_id"]]
            days = max((as_of - row["last"]).total_seconds() / 86400, 0.0)
            X[i, 1] = np.log1p(min(days, 3650))
            X[i, 2] = np.log1p(row["n"])
            X[i, 3] = np.log1p(float(row["revenue"] or 0))
        returned = Return.objects.filter(customer_id__in=part, returned_at__lt=as_of).values_list(
            "customer_id", flat=True
        )
        for cid in set(returned):
            X[index[cid], 0] = 1.0
    return X


def expected_uplift(campaign: Campaign, X: np.ndarray) -> np.ndarray:
    """Return the campaign's expected uplift per customer: its model, else its prior."""
    if campaign.uplift_model:
        try:
            model = TLearnerUplift.from_params(campaign.uplift_model)
            return np.clip(model.predict(X), -1.0, 1.0)
        except (ValueError, KeyError):
            pass  # a model of an older version: fall back to the prior
    return np.full(X.shape[0], float(campaign.expected_uplift))


def customer_values(customer_ids: np.ndarray) -> np.ndarray:
    """Return each customer's value if retained: 12-month CLV / P(alive), else the default.

    Uplift is a change of the probability that the customer buys (stays), so
    the value it multiplies is what the customer brings *when* retained. The
    CLV alone would undervalue exactly the customers a win-back is for: their
    CLV is low because they are probably gone (low P(alive)).
    """
    from stammkunde.analytics.orm import CustomerScore

    ids = np.asarray(customer_ids, dtype=np.int64)
    values = np.full(ids.size, default_value())
    index = {int(c): i for i, c in enumerate(ids)}
    id_list = ids.tolist()
    for lo in range(0, len(id_list), 20_000):
        rows = CustomerScore.objects.filter(
            is_latest=True, customer_id__in=id_list[lo : lo + 20_000]
        ).values_list("customer_id", "clv_12m", "p_alive")
        for cid, clv, p_alive in rows:
            values[index[cid]] = float(clv) / max(float(p_alive), 0.1)
    return values
