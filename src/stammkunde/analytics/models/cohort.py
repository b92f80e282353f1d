"""Cohort retention tables by month of first purchase."""

from __future__ import annotations

import numpy as np
import pandas as pd


def cohort_retention(
    transactions: pd.DataFrame,
    *,
    customer_col: str,
    date_col: str,
    max_months: int | None = None,
    as_counts: bool = False,
) -> pd.DataFrame:
    """Return the share of each first-purchase-month cohort active in month k after it.

    Rows are cohorts (monthly ``Period``), columns are k = 0, 1, 2, ... months
    since the cohort month; column 0 is 1.0 by definition. Months after the
    last transaction month are NaN (not yet observable), not 0, so young
    cohorts do not look like they churned. ``as_counts`` returns customer counts.
    """
    months = pd.to_datetime(transactions[date_col]).dt.to_period("M")
    month_no = (months.dt.year * 12 + months.dt.month - 1).to_numpy(dtype=np.int64)
    frame = pd.DataFrame({"c": transactions[customer_col].to_numpy(), "m": month_no})
    first = frame.groupby("c", sort=False)["m"].transform("min").to_numpy()
    frame["cohort"] = first
    frame["k"] = month_no - first
    active = frame.drop_duplicates(["c", "k"])
    counts = active.groupby(["cohort", "k"]).size().unstack("k", fill_value=0)
    # A month in which nobody of any cohort bought is still a column (of zeros).
    counts = counts.reindex(columns=range(int(counts.columns.max()) + 1), fill_value=0)
    if max_months is not None:
        counts = counts.loc[:, counts.columns <= max_months]
    sizes = counts[0]
    last_month = int(month_no.max())
    cohort_no = counts.index.to_numpy()[:, None]
    observable = cohort_no + counts.columns.to_numpy()[None, :] <= last_month
    values = counts.to_numpy(dtype=np.float64)
    if not as_counts:
        values = values / sizes.to_numpy(dtype=np.float64)[:, None]
    table = pd.DataFrame(
        np.where(observable, values, np.nan),
        index=pd.PeriodIndex.from_ordinals(counts.index.to_numpy() - (1970 * 12), freq="M"),
        columns=counts.columns,
    )
    table.index.name = "cohort"
    table.columns.name = "months_since_first_purchase"
    return table
