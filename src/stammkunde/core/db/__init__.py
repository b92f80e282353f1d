"""The one place that leaves the ORM: set-based writes and prepared single-table statements.

- ``bulk``: ``bulk_insert`` (COPY on PostgreSQL, executemany on SQLite),
  ``copy_text``/``copy_escape`` (rows already in COPY text), ``ids_reserve``,
  ``next_id``/``sequences_reset`` for explicit keys, ``executemany``.
- ``upsert``: ``upsert`` by a unique key (staging table + ``INSERT ... ON
  CONFLICT``), ``ids_by_key`` and ``values_by_key`` lookups in big batches.
- ``checks``: foreign keys checked once per batch instead of per row.
- ``statements``: single-table statements written out for hot paths
  (``rows_fetch``, ``row_insert``, ``row_update``, ``row_value``,
  ``statement_run``), prepared on PostgreSQL.
- ``vendor``: the PostgreSQL/SQLite differences (chunk sizes, adapters, arrays).

When to use it and when not: docs/adr/0002-leaving-the-orm.md.
"""

from .bulk import (
    bulk_insert,
    copy_escape,
    copy_text,
    executemany,
    ids_reserve,
    next_id,
    sequences_reset,
)
from .checks import foreign_keys_checked_per_batch, references_lock, set_based_checks_allowed
from .statements import row_insert, row_update, row_value, rows_fetch, statement_run
from .upsert import adapted_rows, ids_by_key, upsert, values_by_key
from .vendor import SQLITE_CHUNK, any_of, chunk_size, is_postgresql

__all__ = [
    "SQLITE_CHUNK",
    "adapted_rows",
    "any_of",
    "bulk_insert",
    "chunk_size",
    "copy_escape",
    "copy_text",
    "executemany",
    "foreign_keys_checked_per_batch",
    "ids_by_key",
    "ids_reserve",
    "is_postgresql",
    "next_id",
    "references_lock",
    "row_insert",
    "row_update",
    "row_value",
    "rows_fetch",
    "sequences_reset",
    "set_based_checks_allowed",
    "statement_run",
    "upsert",
    "values_by_key",
]
