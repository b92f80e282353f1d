"""Benchmark: next-best-action arbitration, N customers × 20 active campaigns.

Run: ``.venv/bin/python bench/bench_nba.py [max_customers]`` (default 1,000,000).
Builds the eligibility mask (audience, consent per channel, contact cap, quiet
period, complaint suppression) and arbitrates ``uplift × value − cost`` for
100k, 200k, 500k and 1M customers. Prints wall time per step, peak memory
(``resource.getrusage`` max RSS) and the growth of time against customers
(goal: 1M × 20 in under 5 minutes, roughly linear growth).
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np

from stammkunde.campaigns.numeric.arbitration import arbitrate, eligibility_mask

K = 20
CHANNELS = 3


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _inputs(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "uplift": (rng.random((n, K), dtype=np.float32) * 0.1),
        "value": rng.gamma(2.0, 60.0, n).astype(np.float32),
        "cost": (rng.random(K) * 4 + 0.5).astype(np.float32),
        "in_audience": rng.random((n, K), dtype=np.float32) < 0.5,
        "channel_consent": rng.random((n, CHANNELS), dtype=np.float32) < 0.6,
        "campaign_channel": rng.integers(0, CHANNELS, K),
        "contacts": rng.poisson(0.5, n).astype(np.int16),
        "quiet": rng.random(n) < 0.05,
        "suppressed": rng.random(n) < 0.02,
        "advertising": rng.random(K) < 0.8,
    }


def run(n: int, rng: np.random.Generator) -> tuple[float, float, float]:
    data = _inputs(n, rng)
    start = time.perf_counter()
    mask = eligibility_mask(
        in_audience=data["in_audience"],
        channel_consent=data["channel_consent"],
        campaign_channel=data["campaign_channel"],
        contacts_in_window=data["contacts"],
        contact_cap=2,
        quiet=data["quiet"],
        suppressed=data["suppressed"],
        advertising=data["advertising"],
    )
    mask_s = time.perf_counter() - start
    start = time.perf_counter()
    result = arbitrate(data["uplift"], data["value"], data["cost"], mask)
    arb_s = time.perf_counter() - start
    share = float((result.action >= 0).mean())
    return mask_s, arb_s, share


def main(max_customers: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    run(10_000, rng)  # warm-up
    sizes = [s for s in (100_000, 200_000, 500_000, 1_000_000) if s <= max_customers]
    print(f"next-best-action arbitration, {K} campaigns, {CHANNELS} channels")
    print(
        f"{'customers':>10} {'mask s':>8} {'arbitrate s':>12} {'total s':>8} "
        f"{'per 100k s':>11} {'with action':>12} {'max RSS MB':>11}"
    )
    base = None
    for n in sizes:
        mask_s, arb_s, share = run(n, rng)
        total = mask_s + arb_s
        per = total / (n / 100_000)
        base = base or per
        print(
            f"{n:>10,} {mask_s:>8.3f} {arb_s:>12.3f} {total:>8.3f} {per:>11.3f} "
            f"{share:>11.1%} {_max_rss_mb():>11.0f}"
        )
    print(
        f"growth: time per 100k at {sizes[-1]:,} vs 100k = {per / base:.2f}x "
        "(1.0 = linear); goal 1M x 20 < 300 s"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
