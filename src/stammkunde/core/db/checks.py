"""Foreign keys checked once per batch instead of by one trigger per inserted row (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.db import IntegrityError, connection, models, transaction

from .vendor import any_of


def set_based_checks_allowed(models_written: Sequence[type[models.Model]]) -> bool:
    """Return whether this session may replace per-row foreign-key triggers (PostgreSQL).

    Needs the right to set ``session_replication_role`` (superuser, or on
    PostgreSQL 15+ ``GRANT SET ON PARAMETER session_replication_role``) and no
    user-defined trigger on the tables written: replica mode would skip those
    as well, and only the foreign-key checks are replaced here.
    """
    if connection.vendor != "postgresql":
        return False
    privilege = (
        "has_parameter_privilege('session_replication_role', 'SET')"
        if connection.pg_version >= 150000  # type: ignore[attr-defined]
        else "false"
    )
    tables = [m._meta.db_table for m in models_written]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR {privilege}, "
            f"NOT EXISTS (SELECT 1 FROM pg_trigger WHERE NOT tgisinternal "
            f"AND tgrelid = ANY(ARRAY(SELECT to_regclass(t) FROM unnest(%s::text[]) t)))",
            [tables],
        )
        may_set, no_user_triggers = cursor.fetchone()
    return bool(may_set and no_user_triggers)


def references_lock(model: type[models.Model], ids: Iterable[int]) -> None:
    """Lock the referenced rows as a foreign-key check does, for many rows at once.

    ``FOR KEY SHARE`` is the lock PostgreSQL's own check takes: a concurrent
    delete (or key change) of a referenced row waits until this transaction
    ends and then fails on the rows written here. A missing row raises
    IntegrityError, as the check would.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return
    qn = connection.ops.quote_name
    array, param = any_of(wanted, cast="bigint")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {qn(model._meta.db_table)} WHERE id = ANY({array}) "
            f"ORDER BY id FOR KEY SHARE",
            [param],
        )
        found = {row[0] for row in cursor.fetchall()}
    if len(found) < len(wanted):
        missing = [i for i in wanted if i not in found][:5]
        raise IntegrityError(
            f"{model._meta.label}: referenced row(s) {missing} do not exist (any more)"
        )


@contextmanager
def foreign_keys_checked_per_batch(
    enabled: bool, references: dict[type[models.Model], Iterable[int]]
) -> Iterator[None]:
    """Run the body with the per-row foreign-key triggers replaced by ``references_lock``.

    With ``enabled`` the referenced rows are locked and checked first (one
    statement per table), then the body's statements run with
    ``session_replication_role = replica`` so that PostgreSQL does not queue
    one check per inserted row. The setting is ``LOCAL`` inside a savepoint:
    an error rolls it back with the savepoint, success resets it explicitly,
    so it never outlives the body (not even in a caller's transaction). The
    body must only write rows whose references are in ``references`` or were
    inserted in the same transaction. Without ``enabled`` the body simply runs
    and the triggers check as usual.
    """
    if not enabled:
        yield
        return
    for model, ids in references.items():
        references_lock(model, ids)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        yield
        cursor.execute("SET LOCAL session_replication_role = origin")
