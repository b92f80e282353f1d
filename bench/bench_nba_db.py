"""Benchmark: next best action from the database (audiences, consents, caps, features, scores).

Run against a database holding a demo shop, e.g.::

    STAMMKUNDE_VAR_DIR=var/nba .venv/bin/stammkunde migrate
    STAMMKUNDE_VAR_DIR=var/nba .venv/bin/python bench/bench_nba_db.py 100000

It creates the demo shop with N customers when the database is empty, scores
it, switches every playbook on and times ``selectors.next_best_actions`` over
all customers (wall time, peak RSS). ``bench/bench_nba.py`` times the numeric
arbitration alone.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from datetime import UTC, datetime


def main(n: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stammkunde.settings")
    import django

    django.setup()
    from stammkunde.analytics.services import scoring_run
    from stammkunde.campaigns import selectors
    from stammkunde.campaigns.models import Campaign
    from stammkunde.customers.models import Customer
    from stammkunde.demo.generator import demo_generate

    end = datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC)
    if not Customer.objects.exists():
        start = time.perf_counter()
        demo_generate(customers=n, seed=1, end=end)
        print(f"demo shop {n:,} customers: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        scoring_run(as_of=end.date(), distribute=False)
        print(f"scoring: {time.perf_counter() - start:.1f} s")
    Campaign.objects.filter(playbook_phase__gt="").update(status="active")
    k = Campaign.objects.filter(status="active").count()
    for size in sorted({min(n, s) for s in (10_000, 100_000, n)}):
        audience = Customer.objects.filter(
            pk__in=Customer.objects.order_by("id").values("pk")[:size]
        )
        start = time.perf_counter()
        best = selectors.next_best_actions(audience)
        seconds = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{size:>9,} customers x {k} campaigns: {seconds:7.2f} s, "
            f"{(best.action >= 0).sum():,} with an action, max RSS {rss:.0f} MB"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
