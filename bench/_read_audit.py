"""The ticket page with the DSGVO read audit on and off, interleaved (shared by the benches).

``bench_privacy.py --audit-only`` and ``bench_service_desk.py --read-audit`` call
``read_audit_compare`` with their own client and ticket URLs and print the result with
``read_audit_print``. "Off" swaps the service view's ``audit_read`` for a no-op, so the
middleware has nothing to write; everything else on the page is the same.

Not a benchmark of its own (``make bench`` runs ``bench_*.py`` only).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

TARGET_PCT = 5.0
WARMUP_PAIRS = 10


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[int(q * (len(values) - 1))]


def read_audit_compare(client: Any, urls: list[str], rounds: int) -> dict[str, float]:
    """Ticket page p50/p95 in ms with the read audit and without, ``rounds`` requests each.

    Requests go in pairs (the same URL with the audit on and off, the order swapped every
    pair), so that load from other processes and warm caches hit both alike; the first
    ``WARMUP_PAIRS`` pairs are not counted. ``urls`` are cycled through.
    """
    from stammkunde.service import views as service_views

    real = service_views.audit_read

    def noop(request: Any, customer_ids: Any) -> None:
        return None

    timings: dict[str, list[float]] = {"on": [], "off": []}
    try:
        for pair in range(WARMUP_PAIRS + rounds):
            url = urls[pair % len(urls)]
            for mode in ("on", "off") if pair % 2 == 0 else ("off", "on"):
                service_views.audit_read = real if mode == "on" else noop
                t0 = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - t0) * 1000
                assert response.status_code == 200, (url, response.status_code)
                if pair >= WARMUP_PAIRS:
                    timings[mode].append(elapsed)
    finally:
        service_views.audit_read = real
    on, off = timings["on"], timings["off"]
    return {
        "p50_on": statistics.median(on),
        "p50_off": statistics.median(off),
        "p95_on": percentile(on, 0.95),
        "p95_off": percentile(off, 0.95),
        "overhead_pct": (percentile(on, 0.95) / percentile(off, 0.95) - 1) * 100,
    }


def read_audit_print(figures: dict[str, float], rounds: int) -> int:
    """Print the comparison; return the exit code (1 if the p95 overhead is 5 % or more)."""
    overhead = figures["overhead_pct"]
    print(
        f"ticket page, {rounds} requests each: read audit on p50 {figures['p50_on']:.1f} ms "
        f"p95 {figures['p95_on']:.1f} ms; off p50 {figures['p50_off']:.1f} ms "
        f"p95 {figures['p95_off']:.1f} ms; p95 overhead {overhead:+.1f} % "
        f"(target < {TARGET_PCT:.0f} %)"
    )
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if overhead < TARGET_PCT else 1
