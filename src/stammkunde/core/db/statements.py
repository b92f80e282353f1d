"""Single-table statements written out for hot paths, with the ORM's own conversions.

Compiling one ORM statement costs 150-400 µs of CPU; the same statement
written out costs 40-60 µs. The loyalty till API books hundreds of times a
second with a handful of statements per booking, so those statements use
these helpers (see docs/loyalty.md, "Throughput"). Everything else uses the ORM.

Columns come from the model's metadata. Values are written through each
field's ``pre_save``/``get_db_prep_save`` and read back through the backend's
and the field's converters, as the ORM does, so the rows are the ones the ORM
would write and read. Signals are not sent (no model here has receivers).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


def statement_run(using: str, sql: str, params: Sequence[Any], fetch: str) -> Any:
    """Run one statement and return ``fetchall()``, ``fetchone()`` or None (``fetch``).

    On PostgreSQL the statement is prepared: parsed and planned once per
    connection, then only executed, which halves the server's work for these
    short statements. Errors come out as Django's database errors, as from the ORM.
    """
    return _statement_run(connections[using], sql, params, fetch)


def _statement_run(connection: Any, sql: str, params: Sequence[Any], fetch: str) -> Any:
    # (Looking up ``connections[alias]`` costs a thread-local access; callers pass it on.)
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            return cursor.fetchall() if fetch == "all" else cursor.fetchone() if fetch else None
    import psycopg

    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, list(params), prepare=True)
        result = cursor.fetchall() if fetch == "all" else cursor.fetchone() if fetch else None
    if connection.queries_logged:  # DEBUG and query-counting tests see it as any query
        connection.queries_log.append(
            {"sql": f"{sql} -- {list(params)!r}", "time": f"{time.monotonic() - started:.3f}"}
        )
    return result


@dataclass(frozen=True)
class _Shape:
    """How to select one model's rows under a table alias."""

    select: str
    attnames: tuple[str, ...]
    converters: tuple[tuple[tuple[Callable[..., Any], Any], ...], ...]


@functools.cache
def _shape(model: type[Model], alias: str, using: str) -> _Shape:
    connection = connections[using]
    qn = connection.ops.quote_name
    fields = model._meta.concrete_fields
    converters = []
    for field in fields:
        col = field.get_col(alias)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        converters.append(tuple((c, col) for c in found))
    return _Shape(
        select=", ".join(f"{alias}.{qn(_column(f))}" for f in fields),
        attnames=tuple(f.attname for f in fields),
        converters=tuple(converters),
    )


def _column(field: Any) -> str:
    return str(field.column)


def _build(model: type[M], shape: _Shape, row: Sequence[Any], connection: Any) -> M:
    values = list(row)
    for i, chain in enumerate(shape.converters):
        for convert, col in chain:
            values[i] = convert(values[i], col, connection)
    return model.from_db(connection.alias, list(shape.attnames), values)


def rows_fetch(
    model: type[M],
    where: str,
    params: Sequence[Any],
    *,
    join: str | None = None,
    order_by: str = "",
    limit: int | None = None,
    offset: int = 0,
    for_update: bool = False,
    extra: Mapping[str, tuple[str, Sequence[Any]]] | None = None,
    using: str = "default",
) -> list[M]:
    """Return ``model`` rows matching ``where`` (SQL on the table alias ``r``).

    ``join`` names a non-null foreign key whose row comes along (as
    ``select_related`` would); ``for_update`` locks the model's rows only, where
    the database has row locks (SQLite locks the whole file per write transaction).
    ``extra`` maps attribute names to (SQL expression, its parameters): each
    object gets the expression's raw value under that name, saving a statement
    where a second question about the same row would follow (as ``annotate``).
    """
    connection = connections[using]
    qn = connection.ops.quote_name
    shape = _shape(model, "r", using)
    select, tables = shape.select, f"{qn(model._meta.db_table)} r"
    related_field: Any = None
    if join is not None:
        related_field = model._meta.get_field(join)
        related_model = related_field.related_model
        related_shape = _shape(related_model, "j", using)
        select += ", " + related_shape.select
        target = related_field.target_field.column
        tables += (
            f" JOIN {qn(related_model._meta.db_table)} j"
            f" ON j.{qn(target)} = r.{qn(related_field.column)}"
        )
    extra = extra or {}
    extra_params: list[Any] = []
    for expression, expression_params in extra.values():
        select += f", {expression}"
        extra_params.extend(expression_params)
    sql = f"SELECT {select} FROM {tables} WHERE {where}"  # noqa: S608  (identifiers from metadata)
    if order_by:
        sql += f" ORDER BY {order_by}"
    if limit is not None:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    if for_update and connection.features.has_select_for_update:
        sql += " FOR UPDATE OF r" if connection.features.has_select_for_update_of else " FOR UPDATE"
    rows = _statement_run(connection, sql, [*extra_params, *params], "all")
    width = len(shape.attnames)
    related_width = len(related_shape.attnames) if related_field is not None else 0
    found = []
    for row in rows:
        obj = _build(model, shape, row[:width], connection)
        if related_field is not None:
            related = _build(
                related_model, related_shape, row[width : width + related_width], connection
            )
            related_field.set_cached_value(obj, related)
        for name, value in zip(extra, row[width + related_width :], strict=True):
            setattr(obj, name, value)
        found.append(obj)
    return found


@functools.cache
def _insert_sql(model: type[Model], using: str) -> tuple[str, tuple[Field[Any, Any], ...], bool]:
    connection = connections[using]
    qn = connection.ops.quote_name
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    returning = connection.features.can_return_columns_from_insert
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(_column(f)) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if returning:
        sql += f" RETURNING {qn(_column(model._meta.pk))}"
    return sql, fields, returning


def row_insert(obj: M, *, using: str = "default") -> M:
    """INSERT ``obj`` (a new row with a database-made primary key) and set its pk."""
    connection = connections[using]
    sql, fields, returning = _insert_sql(type(obj), using)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    if returning:
        pk = _statement_run(connection, sql, params, "one")[0]
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            pk = cursor.lastrowid
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using
    return obj


def row_update(obj: Model, fields: Sequence[str], *, using: str = "default") -> None:
    """UPDATE the given ``fields`` of ``obj``'s row (by primary key)."""
    connection = connections[using]
    qn = connection.ops.quote_name
    meta = obj._meta
    targets = [meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{qn(_column(f))} = %s" for f in targets)
    params = [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in targets]  # type: ignore[union-attr]
    sql = (
        f"UPDATE {qn(meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {qn(_column(meta.pk))} = %s"
    )
    _statement_run(connection, sql, [*params, obj.pk], "")


def row_value(
    model: type[Model], column: str, where: str, params: Sequence[Any], *, using: str = "default"
) -> Any:
    """Return ``column`` of the first ``model`` row matching ``where`` (alias ``r``), or None.

    The value is returned as the database gives it (meant for ids and counts).
    """
    connection = connections[using]
    qn = connection.ops.quote_name
    sql = (
        f"SELECT r.{qn(column)} FROM {qn(model._meta.db_table)} r "  # noqa: S608
        f"WHERE {where} LIMIT 1"
    )
    row = _statement_run(connection, sql, params, "one")
    return None if row is None else row[0]
