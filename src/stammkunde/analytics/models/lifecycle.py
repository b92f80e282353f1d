"""Lifecycle phase per customer from tenure, probability alive and churn risk."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._inputs import ArrayLike, as_float

PHASES: tuple[str, ...] = ("new", "established", "churn_prone", "churning", "lost")

#: Plain-language labels (German, English).
PHASE_LABELS: dict[str, tuple[str, str]] = {
    "new": ("Neu", "New"),
    "established": ("Etabliert", "Established"),
    "churn_prone": ("Abwanderungsgefährdet", "Churn-prone"),
    "churning": ("Wandert ab", "Churning"),
    "lost": ("Verloren", "Lost"),
}


@dataclass(frozen=True)
class LifecycleThresholds:
    """Thresholds for :func:`lifecycle_phase`; shops tune them to their buying rhythm."""

    new_tenure_days: float = 90.0
    lost_p_alive: float = 0.1
    churning_risk: float = 0.7
    churning_p_alive: float = 0.3
    churn_prone_risk: float = 0.4
    churn_prone_p_alive: float = 0.6


def lifecycle_phase(
    tenure_days: ArrayLike,
    p_alive: ArrayLike,
    churn_risk: ArrayLike,
    *,
    thresholds: LifecycleThresholds | None = None,
) -> np.ndarray:
    """Return the phase per customer, checked in the order lost, new, churning, churn_prone.

    "lost" wins over "new" because a customer that the purchase model already
    considers gone needs no welcome campaign; a missing churn risk (NaN)
    counts as no risk, so P(alive) alone still decides.
    """
    th = thresholds or LifecycleThresholds()
    tenure, alive, risk = as_float(tenure_days), as_float(p_alive), as_float(churn_risk)
    risk = np.nan_to_num(risk, nan=0.0)
    alive = np.nan_to_num(alive, nan=1.0)
    conditions = [
        alive < th.lost_p_alive,
        tenure < th.new_tenure_days,
        (risk >= th.churning_risk) | (alive < th.churning_p_alive),
        (risk >= th.churn_prone_risk) | (alive < th.churn_prone_p_alive),
    ]
    return np.select(conditions, ["lost", "new", "churning", "churn_prone"], "established").astype(
        object
    )


def phase_transitions(previous: pd.Series, current: pd.Series) -> pd.DataFrame:
    """Return the customers whose phase changed, with ``from_phase`` and ``to_phase``.

    Customers that appear only in ``current`` get ``from_phase`` None, so the
    scoring job can write the first history entry too.
    """
    joined = pd.DataFrame({"from_phase": previous, "to_phase": current}).dropna(subset=["to_phase"])
    changed = joined["from_phase"].ne(joined["to_phase"])
    out = joined.loc[changed].astype(object)
    return out.where(out.notna(), None)
