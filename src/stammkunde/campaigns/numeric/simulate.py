"""Simulated campaign with a planted effect, for tests, the benchmark and the demo.

Customers get a baseline purchase probability from their features; the
campaign raises it by ``effect`` **only** in one subgroup (``subgroup`` True,
e.g. customers with returns). The true average effect is therefore
``effect × subgroup share`` — what an evaluation must recover.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PlantedCampaign:
    X: np.ndarray  # (n, 3): subgroup flag, recency (scaled), frequency (scaled)
    subgroup: np.ndarray  # bool (n,)
    treated: np.ndarray  # bool (n,)
    response: np.ndarray  # int (n,)
    revenue: np.ndarray  # float (n,)
    margin: np.ndarray  # float (n,)
    true_uplift: np.ndarray  # float (n,): planted change of response probability
    true_average_effect: float  # expected response difference in the population
    true_average_margin_effect: float  # expected margin difference per customer


def planted_campaign(
    n: int,
    *,
    seed: int = 0,
    control_share: float = 0.1,
    subgroup_share: float = 0.3,
    base_rate: float = 0.08,
    effect: float = 0.15,
    order_value: float = 120.0,
    margin_rate: float = 0.3,
) -> PlantedCampaign:
    """Simulate ``n`` customers with a campaign effect planted in one subgroup."""
    rng = np.random.default_rng(seed)
    subgroup = rng.random(n) < subgroup_share
    recency = rng.normal(size=n)
    frequency = rng.normal(size=n)
    logit = np.log(base_rate / (1 - base_rate)) - 0.4 * recency + 0.3 * frequency
    p0 = 1 / (1 + np.exp(-logit))
    true_uplift = np.where(subgroup, effect, 0.0)
    treated = rng.random(n) >= control_share
    p = np.clip(p0 + treated * true_uplift, 0, 1)
    response = (rng.random(n) < p).astype(np.int64)
    revenue = response * rng.gamma(4.0, order_value / 4.0, n)
    margin = revenue * margin_rate
    return PlantedCampaign(
        X=np.column_stack([subgroup.astype(float), recency, frequency]),
        subgroup=subgroup,
        treated=treated,
        response=response,
        revenue=revenue,
        margin=margin,
        true_uplift=true_uplift,
        true_average_effect=float(effect * subgroup_share),
        true_average_margin_effect=float(effect * subgroup_share * order_value * margin_rate),
    )
