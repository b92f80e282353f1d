"""Inbound mail on PostgreSQL: messages per second through `mail ingest` and through LMTP.

Creates a scratch database, writes N realistic messages (new requests from
known and unknown senders, replies threaded by In-Reply-To, vacation replies,
with a few attachments), then

* runs ``stammkunde mail ingest FILE ...`` in a subprocess (process start and
  Django set-up included), and
* delivers the same number of fresh messages with ``smtplib.LMTP`` into the
  listener (``stammkunde mail lmtp``) started as a subprocess,

and prints messages per second for each. Goal: at least 50 per second.

Usage: python bench/bench_mail_ingest.py [--messages 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import psycopg

ADMIN_URL = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
GOAL = 50.0


def messages(n: int, *, tag: str) -> list[bytes]:
    """N messages: 60 % new requests, 30 % replies to earlier ones, 10 % vacation replies."""
    out: list[bytes] = []
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    for i in range(n):
        msg = EmailMessage()
        customer = i % 400
        msg["From"] = f"Kunde {customer} <kunde{customer}@{tag}.example.de>"
        msg["To"] = "service@shop.example"
        msg["Date"] = format_datetime(start + timedelta(minutes=i))
        msg["Message-ID"] = f"<{tag}{i}@example.de>"
        kind = i % 10
        if kind < 6 or i < 10:
            msg["Subject"] = f"Frage zu Bestellung B{i:05d}"
            msg.set_content(
                f"Guten Tag,\n\nmeine Bestellung B{i:05d} ist noch nicht da. "
                "Können Sie nachsehen?\n\nGrüße\n" + "Lorem ipsum " * 40
            )
            if i % 25 == 0:
                msg.add_attachment(
                    b"%PDF-1.4 " + bytes(20_000),
                    maintype="application",
                    subtype="pdf",
                    filename=f"rechnung-{i}.pdf",
                )
        elif kind < 9:
            parent = i - 7
            msg["Subject"] = f"Re: Frage zu Bestellung B{parent:05d}"
            msg["In-Reply-To"] = f"<{tag}{parent}@example.de>"
            msg["References"] = f"<{tag}{parent}@example.de>"
            msg.set_content("Danke, noch eine Ergänzung: die Farbe soll rot sein.\n\n> zitiert")
        else:
            msg["Subject"] = "Abwesenheitsnotiz"
            msg["Auto-Submitted"] = "auto-replied"
            msg.set_content("Ich bin bis Montag nicht im Büro.")
        out.append(msg.as_bytes(policy=policy.SMTP))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("LMTP listener did not start")


def deliver(port: int, batch: list[bytes]) -> None:
    """Deliver messages over one LMTP connection, as an MTA does."""
    with smtplib.LMTP("127.0.0.1", port) as lmtp:
        for raw in batch:
            lmtp.sendmail("kunde@example.de", ["service@shop.example"], raw)


def _proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc), e.g. a PostgreSQL backend."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_probe(n: int) -> None:
    """In-process ingest measuring CPU time of Python and of the PostgreSQL backend.

    Wall-clock rates depend on what else the machine runs; CPU seconds per
    message do not, and give the rate of an otherwise idle machine.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stammkunde.settings")
    import django

    django.setup()
    from django.db import connection

    from stammkunde.channels.services import mail_ingest

    batch = messages(n, tag="cpu")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    pg_before, py_before = _proc_cpu_seconds(backend), time.process_time()
    started = time.perf_counter()
    for raw in batch:
        mail_ingest(raw=raw)
    wall = time.perf_counter() - started
    py = (time.process_time() - py_before) / n * 1000
    pg = (_proc_cpu_seconds(backend) - pg_before) / n * 1000
    print(
        f"in-process: {n / wall:.0f} msg/s wall clock; CPU per message {py:.1f} ms Python "
        f"+ {pg:.1f} ms PostgreSQL = {py + pg:.1f} ms -> {1000 / (py + pg):.0f} msg/s on one "
        f"idle core, about {2000 / (py + pg):.0f} msg/s with two connections on two cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--cpu-probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.messages
    if args.cpu_probe:
        cpu_probe(n)
        return
    name = f"bench_mail_{os.getpid()}"
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    listener = None
    try:
        env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": ""}
        cli = [sys.executable, "-m", "stammkunde.cli"]
        subprocess.run([*cli, "migrate", "-v0"], env=env, check=True)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO service_queue (name) VALUES ('Kundenservice')")
        file_rates = {}
        for jobs in (1, 4):
            with tempfile.TemporaryDirectory() as tmp:
                files = []
                for i, raw in enumerate(messages(n, tag=f"file{jobs}j")):
                    path = Path(tmp) / f"{i:06d}.eml"
                    path.write_bytes(raw)
                    files.append(str(path))
                started = time.perf_counter()
                done = subprocess.run(
                    [*cli, "mail", "ingest", "--jobs", str(jobs), *files],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                file_seconds = time.perf_counter() - started
            results: dict[str, int] = {}
            for line in done.stdout.splitlines():
                result = json.loads(line)["result"]
                results[result] = results.get(result, 0) + 1
            file_rates[jobs] = n / file_seconds
            print(
                f"mail ingest --jobs {jobs}: {n} messages in {file_seconds:.1f} s = "
                f"{file_rates[jobs]:.0f} msg/s (process start included) {results}"
            )

        subprocess.run(
            [sys.executable, __file__, "--cpu-probe", "--messages", str(n)], env=env, check=True
        )
        port = free_port()
        listener = subprocess.Popen(
            [*cli, "mail", "lmtp", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        wait_port(port)
        rates = {}
        for connections in (1, 4):
            batch = messages(n, tag=f"lmtp{connections}x")
            chunks = [batch[k::connections] for k in range(connections)]
            started = time.perf_counter()
            with ThreadPoolExecutor(connections) as pool:
                list(pool.map(lambda chunk: deliver(port, chunk), chunks))
            seconds = time.perf_counter() - started
            rates[connections] = n / seconds
            print(
                f"LMTP, {connections} connection(s): {n} messages in {seconds:.1f} s = "
                f"{rates[connections]:.0f} msg/s"
            )
        with psycopg.connect(url) as conn:
            stored = conn.execute("SELECT count(*) FROM channels_inboundmessage").fetchone()
        print(f"rows stored in total: {stored[0] if stored else 0} (expected {5 * n})")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        measured = {f"mail ingest --jobs {j}": r for j, r in file_rates.items()}
        measured.update({f"LMTP, {c} connection(s)": r for c, r in rates.items()})
        for label, rate in measured.items():
            print(f"{label}: {rate / GOAL:.1f}x the goal of {GOAL:.0f} msg/s")
    finally:
        if listener is not None:
            listener.terminate()
            listener.wait(timeout=30)
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
