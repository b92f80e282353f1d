"""Benchmark: numeric scoring of 100k and 1M synthetic customers (~10 transactions each).

Times rfm_summary + BG/NBD fit + predictions (expected purchases, P(alive))
+ Gamma-Gamma fit + 12-month CLV + ABC classes, each size in a fresh
subprocess so that the peak RSS belongs to that size alone. Run:
``.venv/bin/python bench/bench_scoring_numeric.py [sizes...]``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

OBSERVATION_DAYS = 730


def synthetic_transactions(n_customers: int, seed: int = 7) -> pd.DataFrame:
    """Return ~10 transactions per customer: exponential gaps around a per-customer rhythm."""
    rng = np.random.default_rng(seed)
    n_tx = 1 + rng.poisson(9, n_customers)
    first = rng.integers(0, OBSERVATION_DAYS // 2, n_customers)
    rhythm = rng.gamma(2.0, 20.0, n_customers)
    customer = np.repeat(np.arange(n_customers), n_tx)
    gaps = rng.exponential(1.0, len(customer)) * rhythm[customer]
    starts = np.r_[0, np.cumsum(n_tx)[:-1]]
    gaps[starts] = 0.0  # the first transaction is at the first purchase day
    cumulative = np.cumsum(gaps)
    day = first[customer] + (cumulative - np.repeat(cumulative[starts], n_tx)).astype(np.int64)
    keep = day < OBSERVATION_DAYS
    dates = np.datetime64("2023-01-01") + day[keep].astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "customer_id": customer[keep],
            "date": dates.astype("datetime64[ns]"),
            "amount": np.round(rng.gamma(3.0, 15.0, keep.sum()), 2),
        }
    )


def run(n_customers: int) -> dict[str, float]:
    from stammkunde.analytics.models.bgnbd import BetaGeoModel
    from stammkunde.analytics.models.clv import customer_lifetime_value
    from stammkunde.analytics.models.gamma_gamma import GammaGammaModel
    from stammkunde.analytics.models.rfm import rfm_summary
    from stammkunde.analytics.models.value_class import value_classes

    transactions = synthetic_transactions(n_customers)
    timings: dict[str, float] = {"customers": n_customers, "transactions": len(transactions)}
    start = time.perf_counter()

    def lap(name: str) -> None:
        timings[name] = (
            time.perf_counter()
            - start
            - sum(v for k, v in timings.items() if k not in ("customers", "transactions"))
        )

    summary = rfm_summary(
        transactions, customer_col="customer_id", date_col="date", amount_col="amount"
    )
    lap("rfm_summary")
    x, tx, t_age, m = (
        summary[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value")
    )
    bgnbd = BetaGeoModel().fit(x, tx, t_age)
    lap("bgnbd_fit")
    bgnbd.expected_purchases(90.0, x, tx, t_age)
    bgnbd.probability_alive(x, tx, t_age)
    lap("bgnbd_predict")
    gg = GammaGammaModel().fit(x, m)
    lap("gamma_gamma_fit")
    clv = customer_lifetime_value(bgnbd, gg, x, tx, t_age, m, months=12)
    lap("clv_12_months")
    value_classes(clv)
    lap("value_classes")
    timings["total"] = time.perf_counter() - start
    timings["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return timings


def main(sizes: list[int]) -> None:
    results = []
    for size in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(out.stdout))
    for r in results:
        steps = ", ".join(
            f"{k} {v:.2f}s"
            for k, v in r.items()
            if k not in ("customers", "transactions", "total", "peak_rss_mb")
        )
        print(
            f"{r['customers']:>9,} customers, {r['transactions']:>10,} transactions: "
            f"total {r['total']:.2f}s, peak RSS {r['peak_rss_mb']:.0f} MB ({steps})"
        )
    if len(results) >= 2:
        growth = results[-1]["total"] / results[0]["total"]
        size_ratio = results[-1]["customers"] / results[0]["customers"]
        print(
            f"time growth {results[-1]['customers']:,}/{results[0]['customers']:,}: {growth:.1f}x "
            f"(linear would be {size_ratio:.0f}x)"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(run(int(sys.argv[2]))))
    else:
        main([int(s) for s in sys.argv[1:]] or [100_000, 1_000_000])
