"""Moved to ``stammkunde.core.db.statements`` (kept until every caller imports from there)."""

from stammkunde.core.db.statements import (
    row_insert,
    row_update,
    row_value,
    rows_fetch,
    statement_run,
)

__all__ = ["row_insert", "row_update", "row_value", "rows_fetch", "statement_run"]
