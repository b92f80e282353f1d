"""Benchmark: Erlang C staffing for a year of 15-minute intervals × 5 queues.

Not a test.  Run with ``.venv/bin/python bench/bench_staffing.py``.
Goal: the vectorised required-agents search for about 175k
intervals in under 2 seconds.  Also times the forecast backtest and prints
WAPE of the model against the seasonal-naive baseline.
"""

from __future__ import annotations

import time

import numpy as np

from stammkunde.workforce.erlang import offered_load, required_agents, scheduled_agents
from stammkunde.workforce.forecast import backtest, synthetic_contacts

QUEUES = {  # name: (contacts per day, AHT seconds)
    "phone_private": (6000.0, 240.0),
    "phone_business": (2500.0, 420.0),
    "chat": (3000.0, 600.0),
    "phone_partner": (800.0, 300.0),
    "hotline_recall": (20000.0, 180.0),
}


def bench_staffing(repeats: int = 5) -> None:
    calls, aht = [], []
    for seed, (daily, handle) in enumerate(QUEUES.values()):
        series = synthetic_contacts("2025-01-01", 365, seed=seed, daily_volume=daily)
        calls.append(series.to_numpy())
        aht.append(np.full(len(series), handle))
    calls_all, aht_all = np.concatenate(calls), np.concatenate(aht)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        traffic = offered_load(calls=calls_all, aht_s=aht_all, interval_s=900)
        raw = required_agents(
            traffic=traffic, aht_s=aht_all, target_answer_s=20, target_sl=0.8, max_occupancy=0.85
        )
        scheduled = scheduled_agents(raw, 0.3)
        timings.append(time.perf_counter() - started)
    best, median = min(timings), float(np.median(timings))
    print(f"intervals: {calls_all.size:,} (5 queues × 365 days × 96)")
    print(f"max traffic {traffic.max():.1f} Erlangs, max scheduled agents {scheduled.max()}")
    print(f"staffing: best {best:.3f} s, median {median:.3f} s of {repeats}")
    print(f"throughput: {calls_all.size / best:,.0f} intervals/s (goal: < 2 s)")


def bench_backtest(start: str, label: str) -> None:
    history = synthetic_contacts(start, 140, seed=42, interval_minutes=15)
    started = time.perf_counter()
    result = backtest(history, horizon_days=7, folds=4)
    elapsed = time.perf_counter() - started
    print(f"backtest ({label}): 20 weeks of 15-min history, 4 folds × 7 days: {elapsed:.2f} s")
    print(
        f"WAPE model {result['wape_model']:.3f} vs "
        f"seasonal naive {result['wape_seasonal_naive']:.3f}"
    )
    for fold in result["folds"]:
        print(
            f"  cut-off {fold['cutoff'][:10]}: model {fold['wape_model']:.3f}, "
            f"naive {fold['wape_seasonal_naive']:.3f}"
        )


if __name__ == "__main__":
    bench_staffing()
    bench_backtest("2025-08-25", "test weeks over Christmas")
    bench_backtest("2025-11-03", "test weeks without holidays")
