"""The differences between PostgreSQL and SQLite that the set-based writes must know.

PostgreSQL takes one array parameter for ``= ANY(...)`` and COPY for bulk
rows; SQLite has a limit on host parameters per statement and only
``executemany``. Values reach the driver either through Django's adapters
(``django_adapter``: what the ORM would send) or, on PostgreSQL, as they
are, since psycopg dumps Decimal, date and aware datetime itself
(``driver_adapter``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models

SQLITE_CHUNK = 900  # stays below every SQLite build's host-parameter limit
_SEP = "\x1f"  # unit separator: joins keys into one text parameter (see ``any_of``)


def is_postgresql() -> bool:
    """Whether the default connection is PostgreSQL (COPY, arrays, row locks)."""
    return connection.vendor == "postgresql"


def chunk_size() -> int:
    """Keys per lookup statement: large with one array parameter, small on SQLite."""
    return 50_000 if is_postgresql() else SQLITE_CHUNK


def django_adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """Return a function that converts a value as the ORM would before sending it."""
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


def driver_adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """Like ``django_adapter``, but leave to psycopg what it converts itself (faster)."""
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
