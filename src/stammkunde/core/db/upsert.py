"""Set-based upserts: COPY into a TEMP staging table on PostgreSQL, executemany on SQLite.

Both paths end in ``INSERT ... ON CONFLICT (key) DO UPDATE`` so that an
import that meets a row written meanwhile updates it instead of failing.
Callers collapse duplicate keys first: one statement may touch a row once.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

from .vendor import SQLITE_CHUNK, any_of, chunk_size, driver_adapter


def adapted_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Iterable[list[Any]]:
    """Yield rows with values in the database driver's form (field names in ``columns``)."""
    adapters = [driver_adapter(model._meta.get_field(c)) for c in columns]  # type: ignore[arg-type]
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
    size = chunk_size()
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
