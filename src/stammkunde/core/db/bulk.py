"""Set-based bulk writes: COPY on PostgreSQL, batched executemany on SQLite.

Used by the demo generators and the apps' bulk services (imports), where
creating millions of model instances would cost more than the database work
itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models

from .vendor import django_adapter


def bulk_insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    batch_size: int = 5000,
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order, field names) and return the count.

    Callers give explicit primary keys when other rows refer to them, then call
    ``sequences_reset``. Must run inside the caller's transaction.
    """
    fields = [model._meta.get_field(c) for c in columns]
    # Django keeps defaults in Python, not in the schema: fill the omitted ones.
    given = {f.name for f in fields}
    defaulted = [
        f
        for f in model._meta.concrete_fields
        if f.name not in given
        and not f.primary_key
        and (f.has_default() or (f.empty_strings_allowed and not f.null))
    ]
    if defaulted:
        extra = [f.get_default() for f in defaulted]
        fields += defaulted
        rows = (tuple(row) + tuple(extra) for row in rows)
    names = [str(f.column) for f in fields]  # type: ignore[union-attr]
    adapters = [django_adapter(f) for f in fields]  # type: ignore[arg-type]
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(n) for n in names)
    count = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            # COPY goes past Django's cursor wrapper: its errors get Django's classes here.
            with (
                connection.wrap_database_errors,
                raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy,
            ):
                for row in iterator:
                    copy.write_row(
                        [
                            a(v) if v is not None else None
                            for a, v in zip(adapters, row, strict=True)
                        ]
                    )
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(names))})"
        while batch := list(islice(iterator, batch_size)):
            cursor.executemany(
                sql,
                [
                    [a(v) if v is not None else None for a, v in zip(adapters, row, strict=True)]
                    for row in batch
                ],
            )
            count += len(batch)
    return count


def next_id(model: type[models.Model]) -> int:
    """Return one above the highest primary key of ``model``."""
    top = model._default_manager.aggregate(m=models.Max("pk"))["m"]
    return int(top or 0) + 1


def sequences_reset(*model_list: type[models.Model]) -> None:
    """Move PostgreSQL id sequences past explicitly inserted keys (no-op on SQLite)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


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
    columns_db = [str(model._meta.get_field(c).column) for c in columns]  # type: ignore[union-attr]
    names = ", ".join(qn(n) for n in columns_db)
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
