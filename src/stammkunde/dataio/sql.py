"""Set-based upserts: COPY into a TEMP staging table on PostgreSQL, executemany on SQLite.

Both paths end in ``INSERT ... ON CONFLICT (key) DO UPDATE`` so that an
import that meets a row written meanwhile updates it instead of failing.
Callers collapse duplicate keys first: one statement may touch a row once.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, connection, models, transaction

SQLITE_CHUNK = 900  # stays below every SQLite build's host-parameter limit
_SEP = "\x1f"  # unit separator: joins keys into one text parameter (see ``any_of``)


def _adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    ops = connection.ops
    if connection.vendor == "postgresql" and not isinstance(field, models.JSONField):
        # psycopg dumps Decimal, date and aware datetime itself (in C); Django's
        # adapters would turn every Decimal into a formatted string first.
        return lambda v: v
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    if isinstance(field, models.JSONField):
        return lambda v: field.get_db_prep_save(v, connection)
    return lambda v: v


def adapted_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Iterable[list[Any]]:
    """Yield rows with values in the database driver's form (field names in ``columns``)."""
    adapters = [_adapter(model._meta.get_field(c)) for c in columns]  # type: ignore[arg-type]
    for row in rows:
        yield [a(v) if v is not None else None for a, v in zip(adapters, row, strict=True)]


def _names(model: type[models.Model], columns: Sequence[str]) -> list[str]:
    return [str(model._meta.get_field(c).column) for c in columns]  # type: ignore[union-attr]


def upsert(
    model: type[models.Model],
    *,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    update: Sequence[str],
    bump: str | None = None,
) -> dict[Any, int]:
    """Insert or update ``rows`` by the unique column ``key``; return ``{key: id}``.

    ``update`` lists the columns an existing row takes from the file; ``bump``
    names an integer column incremented on update (optimistic-lock version).
    Must run inside the caller's transaction.
    """
    if not rows:
        return {}
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    names = _names(model, columns)
    key_col = str(model._meta.get_field(key).column)  # type: ignore[union-attr]
    col_list = ", ".join(qn(n) for n in names)
    sets = [f"{qn(n)} = EXCLUDED.{qn(n)}" for n in _names(model, update)]
    if bump:
        bump_col = qn(str(model._meta.get_field(bump).column))  # type: ignore[union-attr]
        sets.append(f"{bump_col} = {table}.{bump_col} + 1")
    action = f"DO UPDATE SET {', '.join(sets)}" if sets else "DO NOTHING"
    key_index = list(columns).index(key)
    values = adapted_rows(model, columns, rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            stage = f"_stage_{model._meta.db_table}_{zlib.crc32(col_list.encode()):x}"
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {qn(stage)} AS "
                f"SELECT {col_list} FROM {table} WITH NO DATA"
            )
            cursor.execute(f"DELETE FROM {qn(stage)}")  # cheaper than TRUNCATE for a few rows
            # COPY goes past Django's cursor wrapper: its errors get Django's classes here.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {qn(stage)} ({col_list}) FROM STDIN") as copy,
            ):
                for row in values:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM {qn(stage)} "
                f"ON CONFLICT ({qn(key_col)}) {action} RETURNING id, {qn(key_col)}"
            )
            found = {k: i for i, k in cursor.fetchall()}
            if len(found) < len(rows):  # DO NOTHING returns no row for existing keys
                found.update(ids_by_key(model, key=key, keys=[r[key_index] for r in rows]))
            return found
        placeholders = ", ".join(["%s"] * len(names))
        cursor.executemany(
            f"INSERT INTO {table} ({col_list}) VALUES ({placeholders}) "
            f"ON CONFLICT ({qn(key_col)}) {action.replace('EXCLUDED', 'excluded')}",
            list(values),
        )
    return ids_by_key(model, key=key, keys=[r[key_index] for r in rows])


def any_of(values: Sequence[Any], cast: str = "text") -> tuple[str, Any]:
    """Return (SQL array expression, parameter) for ``column = ANY(...)`` on PostgreSQL.

    Thousands of keys travel as one joined text instead of an array literal:
    psycopg quotes array elements one by one in Python (≈ 0.6 µs each), a join
    is done in C. Keys that contain the separator fall back to a real array.
    """
    texts = [str(v) for v in values]
    joined = _SEP.join(texts)
    if joined.count(_SEP) == max(0, len(texts) - 1):
        return f"string_to_array(%s, chr(31))::{cast}[]", joined
    return f"%s::{cast}[]", texts


def _chunk_size() -> int:
    # PostgreSQL gets one array parameter (= ANY), so chunks can be large.
    return 50_000 if connection.vendor == "postgresql" else SQLITE_CHUNK


def ids_by_key(model: type[models.Model], *, key: str, keys: Sequence[Any]) -> dict[Any, int]:
    """Return ``{key: id}`` for the stored rows among ``keys`` (chunked for SQLite)."""
    found: dict[Any, int] = {}
    unique = list(dict.fromkeys(keys))
    if connection.vendor == "postgresql" and unique:
        qn = connection.ops.quote_name
        column = qn(str(model._meta.get_field(key).column))  # type: ignore[union-attr]
        array, param = any_of(unique)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, {column} FROM {qn(model._meta.db_table)} "
                f"WHERE {column} = ANY({array})",
                [param],
            )
            return {k: i for i, k in cursor.fetchall()}
    for start in range(0, len(unique), SQLITE_CHUNK):
        chunk = unique[start : start + SQLITE_CHUNK]
        found.update(
            (k, i)
            for i, k in model._default_manager.filter(**{f"{key}__in": chunk}).values_list(
                "id", key
            )
        )
    return found


def values_by_key(
    model: type[models.Model], *, key: str, keys: Sequence[Any], fields: Sequence[str]
) -> dict[Any, dict[str, Any]]:
    """Return ``{key: {field: value}}`` of stored rows (chunked for SQLite)."""
    found: dict[Any, dict[str, Any]] = {}
    unique = list(dict.fromkeys(k for k in keys if k is not None))
    if connection.vendor == "postgresql" and not any("__" in f for f in fields):
        return _values_by_key_pg(model, key, unique, fields) if unique else found
    size = _chunk_size()
    qn = connection.ops.quote_name
    column = f"{qn(model._meta.db_table)}.{qn(str(model._meta.get_field(key).column))}"  # type: ignore[union-attr]
    for start in range(0, len(unique), size):
        chunk = unique[start : start + size]
        qs = model._default_manager.all()
        if connection.vendor == "postgresql":
            # One array parameter instead of thousands of placeholders.
            qs = qs.extra(where=[f"{column} = ANY(%s)"], params=[chunk])  # noqa: S610
        else:
            qs = qs.filter(**{f"{key}__in": chunk})
        for row in qs.values("id", key, *fields):
            found[row[key]] = row
    return found


def _values_by_key_pg(
    model: type[models.Model], key: str, keys: list[Any], fields: Sequence[str]
) -> dict[Any, dict[str, Any]]:
    """The same as ``values_by_key`` in one statement that returns plain tuples.

    Only for plain columns (no joins, no converters beyond the driver's): the
    ORM's ``values()`` costs more per row than the lookup itself on big batches.
    """
    qn = connection.ops.quote_name
    names = ["id", key, *fields]
    columns = ", ".join(qn(str(model._meta.get_field(n).column)) for n in names)  # type: ignore[union-attr]
    array, param = any_of(keys)
    key_column = qn(str(model._meta.get_field(key).column))  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {qn(model._meta.db_table)} WHERE {key_column} = ANY({array})",
            [param],
        )
        return {row[1]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


# --- foreign keys: one locking check per batch instead of one trigger per row -------------


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


def ids_reserve(model: type[models.Model], count: int) -> list[int]:
    """Draw ``count`` ids from the table's identity sequence (PostgreSQL), in one statement.

    Rows written with these ids by COPY need no ``RETURNING`` round trip, and
    their ids are known before they are written. Ids not used leave gaps, as
    a rolled-back insert does.
    """
    if count <= 0:
        return []
    qn = connection.ops.quote_name
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [qn(table), str(model._meta.pk.column), count],  # type: ignore[union-attr]
        )
        return [row[0] for row in cursor.fetchall()]


def copy_text(model: type[models.Model], columns: Sequence[str], text: str) -> None:
    """COPY rows already written in COPY text format (tab separated, ``\\N`` for NULL).

    For the hot paths: building one string per row with f-strings costs a
    fraction of adapting every value. Text values must pass ``copy_escape``.
    """
    if not text:
        return
    qn = connection.ops.quote_name
    names = ", ".join(qn(n) for n in _names(model, columns))
    statement = f"COPY {qn(model._meta.db_table)} ({names}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,  # IntegrityError etc. as from any other statement
        cursor.cursor.copy(statement) as copy,
    ):
        copy.write(text)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_escape(value: str) -> str:
    """Escape a text value for COPY's text format."""
    return value.translate(_COPY_ESCAPES)


def executemany(sql: str, params: Sequence[Sequence[Any]]) -> None:
    """Run one statement for many parameter rows (pipelined by psycopg 3)."""
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
