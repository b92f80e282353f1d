"""Moved to ``stammkunde.core.db`` (kept until every caller imports from there)."""

from stammkunde.core.db.bulk import bulk_insert, next_id, sequences_reset

__all__ = ["bulk_insert", "next_id", "sequences_reset"]
