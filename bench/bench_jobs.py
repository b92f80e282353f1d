"""The job runner: its own overhead per job, and nightly scoring on 1 and 2 worker processes.

(a) **Overhead per job.** ``--jobs`` small jobs (kind ``jobs.watchdog``: one
query) are started one after another through ``core.jobs``' starter
(``job_start``); the caller waits until each is finished. The runner's
overhead is the time from the start call until the caller sees the job done,
minus the job's own work (its row's ``finished_at - started_at``). Measured in
the embedded default (SQLite, a thread of this process) and with a real Celery
worker (2 processes) on Redis and PostgreSQL. Target: under 50 ms.

(b) **Nightly scoring** (kind ``analytics.score``) of a demo shop made with
``demo_generate`` in a scratch PostgreSQL database: in-process, then with a
real Celery worker of 1 and of 2 processes scoring the chunks (the job itself
runs in the benchmark process, as the in-process run does), then the job sent
to a worker of 2 processes as the schedule sends it (one process coordinates,
one scores). Each time is printed with its ratio against the in-process run
of the same benchmark (medians of ``--repeat`` runs), and the scores are
checked to be the same.

Every part runs in a subprocess with its own ``DATABASE_URL`` (scratch
databases are created from ``BENCH_PG``, default the local trust-auth server,
and dropped afterwards). Redis database ``--redis`` is flushed before use.
Usage: ``python bench/bench_jobs.py [--customers 50000] [--jobs 100] [--chunk-size 5000]
[--repeat 3] [--only overhead|scoring]``
(``--customers 1000000`` for the large run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

ADMIN_URL = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
END = "2026-10-31"
TARGET_MS = 50.0


# --- children (run with --child NAME in a subprocess with their own settings) ----------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stammkunde.settings")
    import django

    django.setup()


def child_overhead(jobs: int) -> dict[str, Any]:
    """Start ``jobs`` small jobs one after another; per job: start → seen done, minus work."""
    _django()
    from django.core.management import call_command

    from stammkunde.core.jobs.models import Job
    from stammkunde.core.jobs.runner import run_mode
    from stammkunde.core.jobs.services import job_start

    call_command("migrate", verbosity=0)
    overheads: list[float] = []
    to_running: list[float] = []
    work: list[float] = []
    warm_up = 5
    for i in range(warm_up + jobs):
        started = time.time()
        job = job_start(kind="jobs.watchdog", trigger=Job.Trigger.CLI)
        assert job is not None
        while True:
            row = Job.objects.filter(pk=job.pk).values("status", "started_at", "finished_at")[0]
            if row["status"] not in Job.ACTIVE:
                break
            time.sleep(0.001)
        seen = time.time()
        if row["status"] != Job.Status.DONE:
            raise SystemExit(f"job {job.pk} ended {row['status']}")
        if i < warm_up:  # first connections, imports, the worker's first message
            continue
        own = (row["finished_at"] - row["started_at"]).total_seconds()
        work.append(own)
        overheads.append((seen - started) - own)
        to_running.append(row["started_at"].timestamp() - started)
    return {
        "mode": run_mode(),
        "jobs": jobs,
        "overhead_ms": [1000 * x for x in overheads],
        "to_running_ms": [1000 * x for x in to_running],
        "work_ms": [1000 * x for x in work],
    }


def child_setup(customers: int) -> dict[str, Any]:
    """Migrate the scratch database and load the demo shop."""
    _django()
    from datetime import UTC, datetime

    from django.core.management import call_command

    from stammkunde.demo.generator import demo_generate

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    demo = demo_generate(
        customers=customers,
        seed=1,
        chunk_size=50_000,
        end=datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC),
    )
    return {"orders": demo.orders, "generate_s": time.perf_counter() - started}


def _scores_digest(run_id: int) -> list[Any]:
    from django.db.models import Count, Sum

    from stammkunde.analytics.orm import CustomerScore

    agg = CustomerScore.objects.filter(run_id=run_id).aggregate(
        n=Count("id"), risk=Sum("churn_risk"), clv=Sum("clv_12m"), alive=Sum("p_alive")
    )
    sums = (round(float(agg[k] or 0), 4) for k in ("risk", "clv", "alive"))
    return [agg["n"], *sums]


def _job_summary(job_id: int, wall: float) -> dict[str, Any]:
    from stammkunde.core.jobs.models import Job

    job = Job.objects.get(pk=job_id)
    if job.status != Job.Status.DONE:
        raise SystemExit(f"scoring job {job.pk} ended {job.status}: {job.error}")
    from stammkunde.analytics.orm import ModelRun

    run = ModelRun.objects.get(pk=job.result["run"])
    return {
        "wall_s": wall,
        "job_s": (job.finished_at - job.started_at).total_seconds(),
        "timings": run.timings,
        "scored": run.n_customers,
        "digest": _scores_digest(run.pk),
        "worker": job.worker,
    }


def child_score_here(chunk_size: int) -> dict[str, Any]:
    """Run the kind ``analytics.score`` in this process (chunks on workers if a broker is set)."""
    _django()
    from stammkunde.core.jobs.models import Job
    from stammkunde.core.jobs.services import run_here

    started = time.perf_counter()
    result = run_here(
        kind_name="analytics.score",
        params={"as_of": END, "chunk_size": chunk_size},
        trigger=Job.Trigger.CLI,
    )
    wall = time.perf_counter() - started
    job = Job.objects.filter(kind="analytics.score", result__run=result["run"]).get()
    return _job_summary(job.pk, wall)


def child_score_job(chunk_size: int) -> dict[str, Any]:
    """Send the kind ``analytics.score`` to the workers, as the schedule does; wait for it."""
    _django()
    from stammkunde.core.jobs.models import Job
    from stammkunde.core.jobs.services import job_start

    started = time.perf_counter()
    job = job_start(kind="analytics.score", params={"as_of": END, "chunk_size": chunk_size})
    assert job is not None
    while Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE).exists():
        time.sleep(0.2)
    return _job_summary(job.pk, time.perf_counter() - started)


# --- the parent: scratch databases, workers, the report -----------------------------------


def _environ(env: dict[str, str | None]) -> dict[str, str]:
    """This process's environment with ``env`` applied (None removes a variable)."""
    merged: dict[str, str | None] = {**os.environ, **env}
    return {k: v for k, v in merged.items() if v is not None}


def _child(name: str, env: dict[str, str | None], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", name, *args],
        env=_environ(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def celery_worker(env: dict[str, str | None], processes: int, log: Path) -> Iterator[None]:
    """A real worker (prefork, ``processes`` processes) until the block ends."""
    import redis

    redis.Redis.from_url(str(env["CELERY_BROKER_URL"])).flushdb()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "stammkunde", "worker",
             "--concurrency", str(processes), "-P", "prefork", "-O", "fair", "-l", "info",
             "-n", f"bench-{os.getpid()}@%h", "--without-gossip", "--without-mingle"],
            env=_environ(env), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while "ready." not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report_overhead(label: str, r: dict[str, Any]) -> None:
    o, s, w = r["overhead_ms"], r["to_running_ms"], r["work_ms"]
    verdict = "under" if _pct(o, 0.95) < TARGET_MS else "OVER"
    print(
        f"{label:<34} {r['mode']:<7} {r['jobs']:>5} {statistics.median(o):>8.1f} "
        f"{_pct(o, 0.95):>8.1f} {max(o):>8.1f} {statistics.median(s):>10.1f} "
        f"{statistics.median(w):>8.1f}  p95 {verdict} {TARGET_MS:.0f} ms",
        flush=True,
    )


def part_overhead(jobs: int, redis_url: str, tmp: Path) -> None:
    print(
        f"(a) runner overhead per job, ms    {'mode':<7} {'jobs':>5} {'median':>8} {'p95':>8} "
        f"{'max':>8} {'to running':>10} {'work':>8}"
    )
    # The embedded default: no DATABASE_URL (SQLite under the var dir), no broker, no Redis.
    embedded = {
        "DATABASE_URL": None,
        "STAMMKUNDE_VAR_DIR": str(tmp / "embedded"),
        "CELERY_BROKER_URL": "",
        "REDIS_URL": "",
        "STAMMKUNDE_JOBS_INLINE": "0",
    }
    report_overhead(
        "embedded default (SQLite, thread)", _child("overhead", embedded, "--jobs", str(jobs))
    )
    with scratch_database("stammkunde_bench_jobs_overhead") as url:
        worker_env: dict[str, str | None] = {
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": redis_url,
            "REDIS_URL": redis_url,
            "STAMMKUNDE_JOBS_INLINE": "0",
            "STAMMKUNDE_VAR_DIR": str(tmp / "worker"),
        }
        _child_migrate(worker_env)
        with celery_worker(worker_env, 2, tmp / "worker-overhead.log"):
            report_overhead(
                "Celery worker, 2 processes (Redis)",
                _child("overhead", worker_env, "--jobs", str(jobs)),
            )


def _child_migrate(env: dict[str, str | None]) -> None:
    subprocess.run(
        [sys.executable, "-m", "stammkunde.cli", "migrate", "--noinput", "-v0"],
        env=_environ(env),
        check=True,
    )


def part_scoring(customers: int, chunk_size: int, repeat: int, redis_url: str, tmp: Path) -> None:
    with scratch_database(f"stammkunde_bench_jobs_{customers}") as url:
        base: dict[str, str | None] = {
            "DATABASE_URL": url,
            "STAMMKUNDE_JOBS_INLINE": "0",
            "STAMMKUNDE_VAR_DIR": str(tmp / "scoring"),
        }
        setup = _child("setup", {**base, "CELERY_BROKER_URL": ""}, "--customers", str(customers))
        print(
            f"\n(b) nightly scoring, PostgreSQL, {customers:,} demo customers "
            f"({setup['orders']:,} orders, generated in {setup['generate_s']:.0f} s), "
            f"chunks of {chunk_size:,}",
            flush=True,
        )
        print(
            f"{'run (median of ' + str(repeat) + ')':<44} {'wall s':>7} {'range s':^11} "
            f"{'ratio':>6} {'load s':>7} {'fit s':>6} {'score+write s':>13}  same scores"
        )
        chunk = ("--chunk-size", str(chunk_size))

        def repeated(child: str, env: dict[str, str | None]) -> list[dict[str, Any]]:
            return [_child(child, env, *chunk) for _ in range(repeat)]

        here = repeated("score_here", {**base, "CELERY_BROKER_URL": ""})
        _print_run("in-process", here, here)
        broker = {**base, "CELERY_BROKER_URL": redis_url, "REDIS_URL": redis_url}
        for processes in (1, 2):
            with celery_worker(broker, processes, tmp / f"worker-score-{processes}.log"):
                runs = repeated("score_here", broker)
            label = f"chunks on a worker of {processes} process{'es' * (processes > 1)}"
            _print_run(label, runs, here)
        with celery_worker(broker, 2, tmp / "worker-score-job.log"):
            runs = repeated("score_job", broker)
        _print_run("job sent to a worker of 2 (1 waits, 1 scores)", runs, here)


def _print_run(label: str, runs: list[dict[str, Any]], base: list[dict[str, Any]]) -> None:
    def median(key: str, rows: list[dict[str, Any]]) -> float:
        return statistics.median(r["timings"][key] if key != "wall_s" else r[key] for r in rows)

    walls = [r["wall_s"] for r in runs]
    same = all(r["digest"] == base[0]["digest"] for r in runs)
    print(
        f"{label:<44} {median('wall_s', runs):>7.1f} {min(walls):>5.1f}-{max(walls):<5.1f} "
        f"{median('wall_s', runs) / median('wall_s', base):>6.2f} {median('load', runs):>7.1f} "
        f"{median('fit', runs):>6.1f} {median('score_write', runs):>13.1f}  "
        f"{'yes' if same else 'NO: ' + str([r['digest'] for r in runs])}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--chunk-size", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3, help="scoring runs per set-up")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--only", choices=["overhead", "scoring"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        func = {
            "overhead": lambda: child_overhead(args.jobs),
            "setup": lambda: child_setup(args.customers),
            "score_here": lambda: child_score_here(args.chunk_size),
            "score_job": lambda: child_score_job(args.chunk_size),
        }[args.child]
        print(json.dumps(func(), default=str))
        return
    with tempfile.TemporaryDirectory(prefix="stammkunde-bench-jobs-") as tmp:
        if args.only in (None, "overhead"):
            part_overhead(args.jobs, args.redis, Path(tmp))
        if args.only in (None, "scoring"):
            part_scoring(args.customers, args.chunk_size, args.repeat, args.redis, Path(tmp))
    # Other work on the machine slows every wall-clock column alike; the ratios hold up better.
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
