"""RFM summaries from raw transactions, RFM scores and named RFM segments.

The summary follows the conventions of ``lifetimes.utils.summary_data_from_transaction_data``
so that BG/NBD and Gamma-Gamma parameters are comparable with the literature:
transactions are bucketed into periods (days or weeks); ``frequency`` is the
number of *repeat* periods with a purchase, ``recency`` the age at the last
purchase period and ``T`` the age at the end of observation, both measured
from the first purchase period; ``monetary_value`` is the mean spend of the
repeat periods (0 for one-off buyers), because the first purchase is often
atypical (sign-up offers).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

Freq = Literal["D", "W"]

# Days since 1970-01-01 (a Thursday) shifted so that weeks start on Monday,
# like pandas' default weekly periods (W-SUN) used by lifetimes.
_WEEK_OFFSET_DAYS = 3


def _period_numbers(dates: pd.Series | pd.DatetimeIndex, freq: Freq) -> np.ndarray:
    days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
    if freq == "D":
        return days
    if freq == "W":
        return np.floor_divide(days + _WEEK_OFFSET_DAYS, 7)
    raise ValueError(f"freq must be 'D' or 'W', not {freq!r}")


def _to_timestamp(value: object, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]  # validated just below
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not a date: {value!r}") from exc
    if pd.isna(stamp):
        raise ValueError(f"{name} is not a date: {value!r}")
    return stamp


def _period_table(
    transactions: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    freq: Freq,
) -> pd.DataFrame:
    """Return one row per (customer, period) with the summed amount, sorted by customer."""
    codes, customers = pd.factorize(transactions[customer_col], sort=True)
    if (codes < 0).any():
        raise ValueError(f"column {customer_col!r} has missing customer ids")
    dates = pd.to_datetime(transactions[date_col])
    if dates.isna().any():
        raise ValueError(f"column {date_col!r} has missing dates")
    period = _period_numbers(dates, freq)
    amount = (
        np.zeros(len(codes))
        if amount_col is None
        else pd.to_numeric(transactions[amount_col]).to_numpy(dtype=np.float64)
    )
    # One integer key per (customer, period) makes the grouping a single hash pass.
    base = period.min() if len(period) else 0
    span = int(period.max() - base + 1) if len(period) else 1
    key = codes.astype(np.int64) * span + (period - base)
    summed = pd.Series(amount).groupby(key, sort=True).sum()
    keys = summed.index.to_numpy()
    table = pd.DataFrame(
        {
            "customer": keys // span,
            "period": keys % span + base,
            "amount": summed.to_numpy(),
        }
    )
    table.attrs["customers"] = customers
    return table


def _summarise(table: pd.DataFrame, end_period: int, n_customers: int) -> pd.DataFrame:
    code = table["customer"].to_numpy()
    period = table["period"].to_numpy()
    amount = table["amount"].to_numpy()
    count = np.bincount(code, minlength=n_customers)
    # Table is sorted by (customer, period): the first row of a customer is its first period.
    first_row = np.r_[0, np.cumsum(count)[:-1]]
    last_row = first_row + count - 1
    present = count > 0
    first = np.where(present, period[np.minimum(first_row, len(period) - 1)], 0)
    last = np.where(present, period[np.minimum(last_row, len(period) - 1)], 0)
    total = np.bincount(code, weights=amount, minlength=n_customers)
    first_amount = np.where(present, amount[np.minimum(first_row, len(period) - 1)], 0.0)
    frequency = np.maximum(count - 1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, (total - first_amount) / frequency, 0.0)
    return pd.DataFrame(
        {
            "frequency": frequency.astype(np.float64),
            "recency": (last - first).astype(np.float64),
            "T": (end_period - first).astype(np.float64),
            "monetary_value": monetary,
            "_present": present,
            "_first": first,
        }
    )


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None = None,
    observation_end: object = None,
    freq: Freq = "D",
    calibration_end: object = None,
) -> pd.DataFrame:
    """Return frequency, recency, T (and monetary_value) per customer.

    ``observation_end`` defaults to the last transaction date; later
    transactions are ignored. With ``calibration_end`` the summary columns
    describe the calibration period only (customers whose first purchase is
    after it are dropped) and ``frequency_holdout`` (repeat periods with a
    purchase after ``calibration_end``), ``duration_holdout`` and
    ``monetary_value_holdout`` describe the holdout period, like lifetimes'
    ``calibration_and_holdout_data``. Times are in units of ``freq``.
    """
    if len(transactions) == 0:
        raise ValueError("no transactions given")
    dates = pd.to_datetime(transactions[date_col])
    end = (
        dates.max()
        if observation_end is None
        else _to_timestamp(observation_end, "observation_end")
    )
    in_window = (dates <= end).to_numpy()
    table = _period_table(transactions.loc[in_window], customer_col, date_col, amount_col, freq)
    customers = table.attrs["customers"]
    end_period = int(_period_numbers(pd.DatetimeIndex([end]), freq)[0])

    if calibration_end is None:
        summary = _summarise(table, end_period, len(customers))
        summary.index = pd.Index(customers, name=customer_col)
        summary = summary.loc[summary["_present"].to_numpy()]
        return _finish(summary, amount_col)

    cal_end = _to_timestamp(calibration_end, "calibration_end")
    if cal_end >= end:
        raise ValueError("calibration_end must be before observation_end")
    cal_period = int(_period_numbers(pd.DatetimeIndex([cal_end]), freq)[0])
    in_cal = table["period"].to_numpy() <= cal_period
    summary = _summarise(table.loc[in_cal], cal_period, len(customers))
    holdout = table.loc[~in_cal]
    hold_code = holdout["customer"].to_numpy()
    hold_count = np.bincount(hold_code, minlength=len(customers))
    hold_total = np.bincount(
        hold_code, weights=holdout["amount"].to_numpy(), minlength=len(customers)
    )
    summary["frequency_holdout"] = hold_count.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        summary["monetary_value_holdout"] = np.where(hold_count > 0, hold_total / hold_count, 0.0)
    summary["duration_holdout"] = float(end_period - cal_period)
    summary.index = pd.Index(customers, name=customer_col)
    summary = summary.loc[summary["_present"].to_numpy()]
    return _finish(summary, amount_col)


def _finish(summary: pd.DataFrame, amount_col: str | None) -> pd.DataFrame:
    summary = summary.drop(columns=["_present", "_first"])
    if amount_col is None:
        summary = summary.drop(columns=[c for c in summary.columns if c.startswith("monetary")])
    return summary


# ----------------------------------------------------------------- scores

#: Segment per (R score, F score), the widely used RF grid (rows R=1..5, cols F=1..5).
_SEGMENT_GRID = np.array(
    [
        ["hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"],
        ["hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"],
        ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
        ["promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"],
        ["new_customers", "potential_loyalist", "potential_loyalist", "champions", "champions"],
    ]
)

#: Plain-language labels (German, English) for the RFM segments.
SEGMENT_LABELS: dict[str, tuple[str, str]] = {
    "champions": ("Champions", "Champions"),
    "loyal": ("Treue Kunden", "Loyal customers"),
    "potential_loyalist": ("Potenziell treu", "Potential loyalists"),
    "new_customers": ("Neukunden", "New customers"),
    "promising": ("Vielversprechend", "Promising"),
    "need_attention": ("Braucht Aufmerksamkeit", "Needs attention"),
    "about_to_sleep": ("Droht einzuschlafen", "About to sleep"),
    "at_risk": ("Gefährdet", "At risk"),
    "cannot_lose": ("Darf nicht verloren gehen", "Cannot lose them"),
    "hibernating": ("Inaktiv", "Hibernating"),
}


def _quantile_score(values: pd.Series, bins: int) -> np.ndarray:
    pct = values.rank(method="average", pct=True).to_numpy()
    return np.clip(np.ceil(pct * bins), 1, bins).astype(np.int64)


def rfm_scores(summary: pd.DataFrame, *, bins: int = 5) -> pd.DataFrame:
    """Return R, F, M scores (1 worst .. ``bins`` best) by quantile and the RFM segment.

    R uses the time since the last purchase (``T - recency``, smaller is
    better), F the number of purchase periods, M the monetary value. Scores are
    relative to the customers passed in, which is what marketers expect from RFM.
    """
    idle = summary["T"] - summary["recency"]
    scores = pd.DataFrame(index=summary.index)
    scores["r_score"] = _quantile_score(-idle, bins)
    scores["f_score"] = _quantile_score(summary["frequency"], bins)
    if "monetary_value" in summary:
        scores["m_score"] = _quantile_score(summary["monetary_value"], bins)
    scores["segment"] = rfm_segment(scores["r_score"], scores["f_score"], bins=bins)
    return scores


def rfm_segment(
    r_score: pd.Series | np.ndarray, f_score: pd.Series | np.ndarray, *, bins: int = 5
) -> np.ndarray:
    """Map R and F scores to a named segment (champions, loyal, at_risk, hibernating, ...)."""
    r = np.asarray(r_score, dtype=np.int64)
    f = np.asarray(f_score, dtype=np.int64)
    # Rescale to the 5x5 grid when a different number of bins is used.
    r5 = np.clip(np.ceil(r * 5 / bins), 1, 5).astype(np.int64) - 1
    f5 = np.clip(np.ceil(f * 5 / bins), 1, 5).astype(np.int64) - 1
    return _SEGMENT_GRID[r5, f5]
