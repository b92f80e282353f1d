"""A real Celery worker (two prefork processes) against Redis and the test database.

The worker is a subprocess: ``celery -A stammkunde worker --concurrency 2 -P
prefork``, with ``DATABASE_URL`` pointing at the test database (PostgreSQL:
``test_<NAME>``) and ``CELERY_BROKER_URL`` at ``STAMMKUNDE_TEST_REDIS_URL``
(default ``redis://127.0.0.1:6379/14``). Tests that use it need
``transactional_db`` so the worker sees their rows. Without PostgreSQL or
Redis the tests skip locally and fail in CI.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from ..conftest import require

REDIS_URL = os.environ.get("STAMMKUNDE_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:
        return False


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_path: Path
    broker_url: str
    # (app_label, model) -> id when the worker started: the ids its processes cache.
    content_types: dict[tuple[str, str], int] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def processes_that_ran(self, task_name: str) -> set[str]:
        """The pool processes (ForkPoolWorker-N) whose log says they finished ``task_name``."""
        pattern = re.compile(r"/(ForkPoolWorker-\d+)\] Task " + re.escape(task_name) + r"\[")
        return set(pattern.findall(self.log()))


def _content_type_ids() -> dict[tuple[str, str], int]:
    from django.contrib.contenttypes.models import ContentType

    return {(a, m): pk for pk, a, m in ContentType.objects.values_list("pk", "app_label", "model")}


def _content_types_renumber(ids: dict[tuple[str, str], int]) -> None:
    """Give the content types (and every row pointing at one) the ids in ``ids``.

    The worker lives through the flushes between transactional tests, and each
    flush makes the content types anew with new ids; its processes keep the ids
    they cached (``ContentType.objects.get_for_model``), so a later test's
    worker would write rows pointing at content types that are gone.
    """
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.color import no_style
    from django.db import connection, transaction

    moves = [(pk, ids[key]) for key, pk in _content_type_ids().items() if ids.get(key, pk) != pk]
    if not moves:
        return
    columns = [("django_content_type", "id")] + [
        (model._meta.db_table, f.column)
        for model in apps.get_models(include_auto_created=True)
        for f in model._meta.local_fields
        if f.many_to_one and f.related_model is ContentType
    ]
    values = ", ".join(["(%s, %s)"] * len(moves))
    params = [n for move in moves for n in move]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table, column in columns:
            # through negative ids, so an id moved away never meets one moved in
            cursor.execute(
                f'UPDATE "{table}" SET "{column}" = -m.new FROM (VALUES {values}) AS m(old, new) '
                f'WHERE "{table}"."{column}" = m.old',
                params,
            )
            cursor.execute(f'UPDATE "{table}" SET "{column}" = -"{column}" WHERE "{column}" < 0')
        for sql in connection.ops.sequence_reset_sql(no_style(), [ContentType]):
            cursor.execute(sql)
    ContentType.objects.clear_cache()


def _database_url(settings_dict: dict[str, Any]) -> str:
    user = quote(settings_dict.get("USER") or "")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    """Start the worker once per session (after the test database exists)."""
    from django.db import connection

    require(
        connection.vendor == "postgresql",
        "a real worker needs PostgreSQL (DATABASE_URL=postgres://...)",
    )
    require(_redis_answers(REDIS_URL), f"Redis at {REDIS_URL} is not reachable")
    import redis

    from ..channels.dovecot import PASSWORD as IMAP_PASSWORD

    redis.Redis.from_url(REDIS_URL).flushdb()  # no messages left from an earlier run
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "CELERY_BROKER_URL": REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        "STAMMKUNDE_JOBS_INLINE": "0",
        "DB_CONN_MAX_AGE": "0",
        # The password of the channels tests' dovecot (``Mailbox.password_env``), so the
        # worker can poll it: a test's monkeypatch.setenv does not reach the subprocess.
        "TEST_IMAP_PASSWORD": IMAP_PASSWORD,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "stammkunde",
                "worker",
                "--concurrency",
                "2",
                "-P",
                "prefork",
                "-O",
                "fair",
                "-l",
                "info",
                "-n",
                f"test-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    worker = Worker(process=process, log_path=log_path, broker_url=REDIS_URL)
    with django_db_blocker.unblock():
        worker.content_types = _content_type_ids()
    try:
        deadline = time.monotonic() + 90
        while "ready." not in worker.log():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{worker.log()[-3000:]}")
            time.sleep(0.3)
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _celery_connections_reset(app: Any) -> None:
    # The app keeps a connection pool for the broker URL it saw first; forget it (closing
    # would close kombu's shared pool for that URL, which a later test may get back).
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_at(settings: Any) -> Iterator[Any]:
    """``broker_at(url)``: from now on this test's jobs go to the broker at ``url``."""
    from stammkunde.celery import app

    old = (app.conf.broker_url, app.conf.task_always_eager)

    def use(url: str) -> None:
        settings.CELERY_BROKER_URL = url
        settings.CELERY_TASK_ALWAYS_EAGER = False
        settings.JOBS_INLINE = False
        app.conf.broker_url = url
        app.conf.task_always_eager = False
        _celery_connections_reset(app)

    yield use
    app.conf.broker_url, app.conf.task_always_eager = old
    _celery_connections_reset(app)


@pytest.fixture
def celery_worker(celery_worker_process: Worker, broker_at: Any, transactional_db: Any) -> Worker:
    """This test sends its jobs to the real worker (the broker set, nothing eager)."""
    _content_types_renumber(celery_worker_process.content_types)
    broker_at(celery_worker_process.broker_url)
    return celery_worker_process
