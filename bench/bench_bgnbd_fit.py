"""Benchmark: BG/NBD fit on CDNOW, ours against lifetimes' BetaGeoFitter in the same run.

Run: ``.venv/bin/python bench/bench_bgnbd_fit.py [repetitions]``. Prints the
median wall time of each, the ratio (goal >= 5x) and both parameter sets.
"""

from __future__ import annotations

import statistics
import sys
import time

from lifetimes import BetaGeoFitter
from lifetimes.datasets import load_cdnow_summary

from stammkunde.analytics.models.bgnbd import BetaGeoModel


def _median_seconds(fit, repetitions: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repetitions):
        start = time.perf_counter()
        result = fit()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(repetitions: int = 21) -> None:
    data = load_cdnow_summary(index_col=[0])
    x, tx, t_age = data["frequency"], data["recency"], data["T"]
    fit_ours = lambda: BetaGeoModel().fit(x, tx, t_age)  # noqa: E731
    fit_theirs = lambda: BetaGeoFitter().fit(x, tx, t_age)  # noqa: E731
    fit_ours(), fit_theirs()  # warm-up: imports, caches
    ours_s, ours = _median_seconds(fit_ours, repetitions)
    theirs_s, theirs = _median_seconds(fit_theirs, repetitions)
    print(f"CDNOW {len(data)} customers, {repetitions} repetitions, median wall time")
    print(f"  stammkunde BetaGeoModel : {ours_s * 1000:8.2f} ms")
    print(f"  lifetimes BetaGeoFitter : {theirs_s * 1000:8.2f} ms")
    print(f"  ratio (lifetimes/ours)  : {theirs_s / ours_s:8.1f}x  (goal >= 5x)")
    for name, (r, alpha, a, b) in (
        ("ours     ", (ours.r_, ours.alpha_, ours.a_, ours.b_)),
        ("lifetimes", tuple(theirs.params_[["r", "alpha", "a", "b"]])),
    ):
        # Both log-likelihoods on the original (weekly) scale, from the same formula.
        reference = BetaGeoModel.from_params(
            ours.params_dict()
            | {
                "fitted": {
                    "r_": r,
                    "alpha_": alpha,
                    "a_": a,
                    "b_": b,
                    "log_likelihood_": 0.0,
                    "n_customers_": 0,
                }
            }
        )
        ll = reference.log_likelihood(x, tx, t_age)
        print(f"  {name} r={r:.4f} alpha={alpha:.4f} a={a:.4f} b={b:.4f} LL={ll:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 21)
