"""Set-based bulk writes: COPY on PostgreSQL, batched executemany on SQLite.

Used by the demo generator and importers where creating millions of model
instances would cost more than the database work itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models


def _adapter(field: models.Field) -> Callable[[Any], Any]:
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    if isinstance(field, models.JSONField):
        return lambda v: field.get_db_prep_save(v, connection)
    return lambda v: v


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
    adapters = [_adapter(f) for f in fields]  # type: ignore[arg-type]
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
