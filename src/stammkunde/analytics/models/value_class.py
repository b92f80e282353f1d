"""ABC value classes by customer lifetime value (Pareto classes)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ._inputs import ArrayLike, as_float


def value_classes(
    clv: ArrayLike | pd.Series,
    *,
    shares: tuple[float, float] = (0.2, 0.3),
    by: Literal["customers", "value"] = "customers",
    labels: tuple[str, str, str] = ("A", "B", "C"),
) -> np.ndarray:
    """Return "A"/"B"/"C" per customer.

    With ``by="customers"`` (default) A is the top ``shares[0]`` of customers
    by CLV, B the next ``shares[1]`` and C the rest. With ``by="value"`` A is
    the smallest group of top customers that makes up ``shares[0]`` of the
    total value (classic Pareto: e.g. ``shares=(0.8, 0.15)``), B the next
    ``shares[1]`` of value. Ties keep input order, so the result is stable.
    """
    values = as_float(clv)
    if values.ndim != 1:
        raise ValueError("clv must be one-dimensional")
    if min(shares) < 0 or sum(shares) > 1:
        raise ValueError("shares must be non-negative and sum to at most 1")
    n = len(values)
    result = np.full(n, labels[2], dtype=object)
    if n == 0:
        return result
    order = np.argsort(-values, kind="stable")
    if by == "customers":
        # Share of customers ranked at or above each position.
        position = (np.arange(n) + 1) / n
    elif by == "value":
        sorted_values = np.clip(values[order], 0, None)
        total = sorted_values.sum()
        cumulative = np.cumsum(sorted_values)
        # Share of value held by the customers ranked strictly above: a customer
        # belongs to A while A's value before them has not reached the share.
        position = (cumulative - sorted_values) / total if total > 0 else np.ones(n)
        position = np.nextafter(position, np.inf)
    else:
        raise ValueError(f"by must be 'customers' or 'value', not {by!r}")
    cut_a, cut_b = shares[0], shares[0] + shares[1]
    ranked = np.where(
        position <= cut_a + 1e-12,
        labels[0],
        np.where(position <= cut_b + 1e-12, labels[1], labels[2]),
    )
    result[order] = ranked
    return result
