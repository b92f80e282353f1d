"""Treatment-versus-control evaluation of one campaign: incremental effects, ROI, advice.

The control group is a random hold-out of the *eligible* audience, so the
difference of the group means is an unbiased estimate of the campaign's
average effect per contacted customer (intention to treat).

* Binary outcomes (response, repurchase, retention): difference of two
  proportions with the unpooled Wald standard error.
* Amounts (revenue, margin per customer): Welch's t interval, which does not
  assume equal variances — campaign revenue is skewed and the treatment
  usually widens its spread.

ROI = (incremental margin − cost) / cost, where the incremental margin is the
per-customer margin effect times the number of treated customers; its
interval follows from the margin interval because ROI is linear in it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

CONTINUE = "continue"
STOP = "stop"
TOO_EARLY = "too_early"


@dataclass(frozen=True)
class Effect:
    """A difference treatment − control with its two-sided confidence interval."""

    treatment_mean: float
    control_mean: float
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    n_treatment: int
    n_control: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


def difference_of_proportions(
    treated: np.ndarray, control: np.ndarray, *, alpha: float = 0.05
) -> Effect:
    """Return the difference of two success rates (0/1 arrays) with a Wald interval."""
    t = np.asarray(treated, dtype=np.float64)
    c = np.asarray(control, dtype=np.float64)
    n_t, n_c = t.size, c.size
    if n_t == 0 or n_c == 0:
        return _empty(t, c)
    p_t, p_c = float(t.mean()), float(c.mean())
    se = float(np.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c))
    z = float(stats.norm.ppf(1 - alpha / 2))
    diff = p_t - p_c
    p_value = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
    return Effect(p_t, p_c, diff, diff - z * se, diff + z * se, p_value, n_t, n_c)


def welch_difference(treated: np.ndarray, control: np.ndarray, *, alpha: float = 0.05) -> Effect:
    """Return the difference of two means with Welch's t interval (unequal variances)."""
    t = np.asarray(treated, dtype=np.float64)
    c = np.asarray(control, dtype=np.float64)
    n_t, n_c = t.size, c.size
    if n_t < 2 or n_c < 2:
        return _empty(t, c)
    v_t, v_c = t.var(ddof=1) / n_t, c.var(ddof=1) / n_c
    se = float(np.sqrt(v_t + v_c))
    diff = float(t.mean() - c.mean())
    if se == 0:
        return Effect(
            float(t.mean()), float(c.mean()), diff, diff, diff, 1.0 if diff == 0 else 0.0, n_t, n_c
        )
    # Welch–Satterthwaite degrees of freedom.
    df = (v_t + v_c) ** 2 / (v_t**2 / (n_t - 1) + v_c**2 / (n_c - 1))
    q = float(stats.t.ppf(1 - alpha / 2, df))
    p_value = float(2 * stats.t.sf(abs(diff) / se, df))
    return Effect(
        float(t.mean()), float(c.mean()), diff, diff - q * se, diff + q * se, p_value, n_t, n_c
    )


def _empty(t: np.ndarray, c: np.ndarray) -> Effect:
    nan = float("nan")
    t_mean = float(t.mean()) if t.size else nan
    c_mean = float(c.mean()) if c.size else nan
    return Effect(t_mean, c_mean, nan, nan, nan, nan, int(t.size), int(c.size))


class CampaignEvaluator:
    """Compare treatment and control on binary and amount outcomes; ROI and advice.

    Parameters
    ----------
    alpha:
        One minus the confidence level of every interval.
    min_group_size:
        Below this many customers in the smaller group the advice is "too
        early", whatever the numbers say.

    ``fit(treated, outcomes, cost)`` takes a boolean array (True = treatment),
    a mapping of outcome name → per-customer array (binary outcomes are those
    whose values are all 0/1) and the campaign's total cost in euros.
    Learned: ``effects_`` (name → Effect), ``incremental_margin_`` with
    ``incremental_margin_ci_``, ``roi_`` with ``roi_ci_``, ``recommendation_``,
    ``reason_`` and ``reason_code_`` (a stable key the UI translates).
    """

    def __init__(self, *, alpha: float = 0.05, min_group_size: int = 30) -> None:
        self.alpha = alpha
        self.min_group_size = min_group_size

    def fit(
        self,
        treated: np.ndarray,
        outcomes: dict[str, np.ndarray],
        *,
        cost: float,
        margin_key: str = "margin",
    ) -> CampaignEvaluator:
        """Estimate every outcome's effect, the incremental margin, ROI and the advice."""
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be between 0 and 1")
        treated = np.asarray(treated, dtype=bool)
        effects: dict[str, Effect] = {}
        for name, values in outcomes.items():
            values = np.asarray(values, dtype=np.float64)
            if values.shape != treated.shape:
                raise ValueError(f"outcome {name!r} has {values.size} values, not {treated.size}")
            binary = bool(np.isin(values, (0.0, 1.0)).all()) and name != margin_key
            test = difference_of_proportions if binary else welch_difference
            effects[name] = test(values[treated], values[~treated], alpha=self.alpha)
        self.effects_ = effects
        self.n_treatment_ = int(treated.sum())
        self.n_control_ = int((~treated).sum())
        self.cost_ = float(cost)
        margin = effects.get(margin_key)
        if margin is None or np.isnan(margin.estimate):
            self.incremental_margin_ = float("nan")
            self.incremental_margin_ci_ = (float("nan"), float("nan"))
        else:
            n = self.n_treatment_
            self.incremental_margin_ = margin.estimate * n
            self.incremental_margin_ci_ = (margin.ci_low * n, margin.ci_high * n)
        self.roi_, self.roi_ci_ = self._roi()
        self.recommendation_, self.reason_, self.reason_code_ = self._advice()
        return self

    def _roi(self) -> tuple[float, tuple[float, float]]:
        if self.cost_ <= 0 or np.isnan(self.incremental_margin_):
            return float("nan"), (float("nan"), float("nan"))
        low, high = self.incremental_margin_ci_
        return (
            (self.incremental_margin_ - self.cost_) / self.cost_,
            ((low - self.cost_) / self.cost_, (high - self.cost_) / self.cost_),
        )

    def _advice(self) -> tuple[str, str, str]:
        """Return (recommendation, reason in English, reason code for translated UI text)."""
        smaller = min(self.n_treatment_, self.n_control_)
        if smaller < self.min_group_size:
            return (
                TOO_EARLY,
                f"only {smaller} customers in the smaller group",
                "small_groups",
            )
        if np.isnan(self.incremental_margin_):
            return TOO_EARLY, "no margin outcome yet", "no_margin"
        low, high = self.incremental_margin_ci_
        if self.cost_ > 0:
            if low > self.cost_:
                return (
                    CONTINUE,
                    "incremental margin exceeds the cost (ROI interval above 0)",
                    "roi_above_0",
                )
            if high < self.cost_:
                return (
                    STOP,
                    "incremental margin below the cost (ROI interval below 0)",
                    "roi_below_0",
                )
            return TOO_EARLY, "the ROI interval still contains 0", "roi_contains_0"
        if low > 0:
            return CONTINUE, "positive incremental margin at no cost", "margin_above_0"
        if high < 0:
            return STOP, "negative incremental margin", "margin_below_0"
        return TOO_EARLY, "the margin interval still contains 0", "margin_contains_0"

    def summary(self) -> dict[str, Any]:
        """Return the fit as plain JSON-ready data (NaN as None)."""

        def clean(value: Any) -> Any:
            if isinstance(value, float) and np.isnan(value):
                return None
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [clean(v) for v in value]
            return value

        return clean(
            {
                "alpha": self.alpha,
                "n_treatment": self.n_treatment_,
                "n_control": self.n_control_,
                "effects": {k: e.as_dict() for k, e in self.effects_.items()},
                "cost": self.cost_,
                "incremental_margin": self.incremental_margin_,
                "incremental_margin_ci": list(self.incremental_margin_ci_),
                "roi": self.roi_,
                "roi_ci": list(self.roi_ci_),
                "recommendation": self.recommendation_,
                "reason": self.reason_,
                "reason_code": self.reason_code_,
                "min_group_size": self.min_group_size,
            }
        )


def cumulative_effect(
    treated: np.ndarray,
    day: np.ndarray,
    amount: np.ndarray,
    customer_group: np.ndarray,
    *,
    horizon_days: int,
    alpha: float = 0.05,
) -> dict[str, list[Any]]:
    """Return per-day cumulative amount per customer in each group and its difference with CI.

    ``treated`` is per customer (True = treatment); ``day``/``amount`` are per
    event (e.g. an order) with ``customer_group`` the index of the event's
    customer into ``treated``. Day 0 is the contact day.
    """
    treated = np.asarray(treated, dtype=bool)
    n = treated.size
    days = np.arange(horizon_days + 1)
    per_customer = np.zeros((n, horizon_days + 1))
    keep = (day >= 0) & (day <= horizon_days)
    np.add.at(per_customer, (customer_group[keep], day[keep].astype(int)), amount[keep])
    cum = per_customer.cumsum(axis=1)
    out: dict[str, list[Any]] = {
        "day": days.tolist(),
        "treatment": [],
        "control": [],
        "effect": [],
        "low": [],
        "high": [],
    }
    for d in days:
        e = welch_difference(cum[treated, d], cum[~treated, d], alpha=alpha)
        out["treatment"].append(e.treatment_mean)
        out["control"].append(e.control_mean)
        out["effect"].append(e.estimate)
        out["low"].append(e.ci_low)
        out["high"].append(e.ci_high)
    return out
