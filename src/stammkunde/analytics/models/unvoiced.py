"""Unvoiced dissatisfaction: unhappy customers who never complained.

Most dissatisfied customers leave without complaining, so a silent customer
with bad signals is a stronger churn warning than one who opened a ticket
(and can still be saved). This module only combines signals computed
elsewhere (survey scores, returns, message sentiment, purchase trend).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Evidence codes with plain-language text (German, English).
EVIDENCE_PHRASES: dict[str, tuple[str, str]] = {
    "low_survey_score": (
        "niedrige Bewertung in der letzten Umfrage",
        "low score in the last survey",
    ),
    "returns": ("mehrere Retouren", "several returns"),
    "negative_wording": ("negative Formulierungen in Nachrichten", "negative wording in messages"),
    "falling_frequency": ("kauft seltener als früher", "buys less often than before"),
}


@dataclass(frozen=True)
class UnvoicedThresholds:
    """Thresholds for :func:`unvoiced_dissatisfaction`."""

    max_survey_score: float = 2.0  # on a 1..5 scale: 1 and 2 are unhappy
    min_returns: int = 2
    min_negative_messages: int = 1
    max_frequency_trend: float = 0.5  # recent purchase rate below half the usual rate
    min_signals: int = 1


def unvoiced_dissatisfaction(
    signals: pd.DataFrame, *, thresholds: UnvoicedThresholds | None = None
) -> pd.DataFrame:
    """Return the customers with dissatisfaction evidence and no complaint.

    ``signals`` is indexed by customer; used columns (missing ones mean "no
    signal"): ``complaints_total``, ``survey_score_last`` (NaN if none),
    ``returns_90d``, ``negative_messages_90d``, ``frequency_trend`` (recent
    purchase rate / usual rate, NaN if unknown). The result has ``evidence``
    (list of codes, see :data:`EVIDENCE_PHRASES`) and ``n_signals``.
    """
    th = thresholds or UnvoicedThresholds()

    def column(name: str, default: float) -> pd.Series:
        if name in signals:
            return pd.to_numeric(signals[name]).astype(np.float64)
        return pd.Series(default, index=signals.index, dtype=np.float64)

    flags = pd.DataFrame(
        {
            "low_survey_score": column("survey_score_last", np.nan) <= th.max_survey_score,
            "returns": column("returns_90d", 0) >= th.min_returns,
            "negative_wording": column("negative_messages_90d", 0) >= th.min_negative_messages,
            "falling_frequency": column("frequency_trend", np.nan) < th.max_frequency_trend,
        },
        index=signals.index,
    )
    n_signals = flags.sum(axis=1)
    silent = column("complaints_total", 0).fillna(0) <= 0
    selected = flags.loc[silent & (n_signals >= th.min_signals)]
    # Matrix product of booleans with "code;" strings concatenates the codes row-wise.
    joined = selected.astype(object).dot(pd.Index([f"{code};" for code in flags.columns]))
    evidence = joined.astype(str).str.rstrip(";").str.split(";")
    return pd.DataFrame(
        {"evidence": evidence, "n_signals": n_signals.loc[selected.index]},
        index=selected.index,
    )


def frequency_trend(
    transactions: pd.DataFrame,
    *,
    customer_col: str,
    date_col: str,
    as_of: object,
    recent_days: int = 90,
    baseline_days: int = 365,
) -> pd.Series:
    """Return recent purchase rate / baseline rate per customer (NaN without baseline purchases).

    The baseline is the ``baseline_days`` before the recent window; rates are
    per day so windows of different length compare.
    """
    end = pd.Timestamp(as_of)  # type: ignore[arg-type]  # caller passes a date
    age_days = (end - pd.to_datetime(transactions[date_col])).dt.days.to_numpy()
    recent = (age_days >= 0) & (age_days < recent_days)
    baseline = (age_days >= recent_days) & (age_days < recent_days + baseline_days)
    frame = pd.DataFrame(
        {"c": transactions[customer_col].to_numpy(), "recent": recent, "baseline": baseline}
    )
    counts = frame.groupby("c")[["recent", "baseline"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        trend = (counts["recent"] / recent_days) / (counts["baseline"] / baseline_days)
    return trend.where(counts["baseline"] > 0).rename("frequency_trend")
