"""Survey figures with confidence intervals: NPS, CSAT, CES and response rates.

Django-free (numpy, scipy, pandas only) so that it can be tested against
published values and reused by analytics and reports.

* **NPS** = 100 · (share of promoters 9–10 − share of detractors 0–6). Each
  answer is a score x ∈ {+1, 0, −1}; NPS is 100 · mean(x) and its variance is
  the variance of that difference: Var(x) = p + d − (p − d)², so the standard
  error is 100 · sqrt((p + d − (p − d)²) / n) (normal approximation).
* **CSAT** = share of answers 4–5 on the 1–5 scale, with the **Wilson score
  interval** (keeps within 0–100 % and behaves for small n and shares near 0 or 1).
* **CES** = mean of the 1–7 answers with a **Student t interval**.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

NPS_RANGE = (0, 10)
CSAT_RANGE = (1, 5)
CES_RANGE = (1, 7)


@dataclass(frozen=True)
class Estimate:
    """A figure with its confidence interval; ``low``/``high`` are NaN when n is too small."""

    value: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return {"value": self.value, "low": self.low, "high": self.high, "n": self.n}


EMPTY = Estimate(math.nan, math.nan, math.nan, 0)


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def _scores(values: Iterable[float], bounds: tuple[int, int]) -> np.ndarray:
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, float)
    arr = arr[~np.isnan(arr)]
    lo, hi = bounds
    if arr.size and (arr.min() < lo or arr.max() > hi):
        raise ValueError(f"scores must lie in {lo}..{hi}")
    return arr


def nps(scores: Iterable[float], *, confidence: float = 0.95) -> Estimate:
    """Net Promoter Score (−100..100), normal interval on the promoter−detractor difference."""
    arr = _scores(scores, NPS_RANGE)
    n = int(arr.size)
    if n == 0:
        return EMPTY
    p = float(np.mean(arr >= 9))
    d = float(np.mean(arr <= 6))
    value = 100 * (p - d)
    if n < 2:
        return Estimate(value, math.nan, math.nan, n)
    se = 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    half = _z(confidence) * se
    return Estimate(value, max(value - half, -100.0), min(value + half, 100.0), n)


def wilson(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (as shares 0..1)."""
    if n <= 0:
        return (math.nan, math.nan)
    z = _z(confidence)
    phat = successes / n
    denom = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(centre - half, 0.0)
    high = 1.0 if successes == n else min(centre + half, 1.0)
    return (low, high)


def csat(scores: Iterable[float], *, confidence: float = 0.95) -> Estimate:
    """CSAT in percent: share of 4 and 5 on the 1–5 scale, Wilson interval."""
    arr = _scores(scores, CSAT_RANGE)
    n = int(arr.size)
    if n == 0:
        return EMPTY
    k = int(np.sum(arr >= 4))
    low, high = wilson(k, n, confidence=confidence)
    return Estimate(100 * k / n, 100 * low, 100 * high, n)


def ces(scores: Iterable[float], *, confidence: float = 0.95) -> Estimate:
    """Customer effort: mean of 1–7 answers with a Student t interval."""
    arr = _scores(scores, CES_RANGE)
    n = int(arr.size)
    if n == 0:
        return EMPTY
    mean = float(arr.mean())
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    se = float(arr.std(ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1)) * se
    return Estimate(mean, mean - half, mean + half, n)


def response_rate(answered: int, invited: int, *, confidence: float = 0.95) -> Estimate:
    """Share of invitations answered, in percent, with a Wilson interval."""
    if invited <= 0:
        return EMPTY
    low, high = wilson(answered, invited, confidence=confidence)
    return Estimate(100 * answered / invited, 100 * low, 100 * high, invited)


METRICS = {"nps": nps, "csat": csat, "ces": ces}


def summarize(
    frame: pd.DataFrame,
    *,
    metric: str,
    by: Sequence[str] = (),
    period: str | None = None,
    at: str = "submitted_at",
    min_n: int = 1,
) -> pd.DataFrame:
    """Return one row per group (and period) with value, low, high and n of ``metric``.

    ``frame`` has a column named like the metric (NaN where not answered), the
    ``by`` columns and, for ``period`` ("W", "M", "Q"), a datetime column ``at``.
    Groups with fewer than ``min_n`` answers are dropped.
    """
    func = METRICS[metric]
    data = frame[frame[metric].notna()] if metric in frame else frame.iloc[0:0]
    keys = list(by)
    if period:
        stamps = pd.to_datetime(data[at], utc=True).dt.tz_localize(None)
        data = data.assign(period=stamps.dt.to_period(period).dt.start_time)
        keys.append("period")
    columns = [*keys, "value", "low", "high", "n"]
    if data.empty:
        return pd.DataFrame(columns=columns)
    if not keys:
        est = func(data[metric].to_numpy(float))
        return pd.DataFrame([est.as_dict()], columns=columns)
    rows = []
    for group, part in data.groupby(keys, dropna=False, sort=True):
        est = func(part[metric].to_numpy(float))
        if est.n < min_n:
            continue
        values = group if isinstance(group, tuple) else (group,)
        rows.append([*values, est.value, est.low, est.high, est.n])
    return pd.DataFrame(rows, columns=columns)
