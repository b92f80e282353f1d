"""Migration operations shared by the apps' migrations."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def _like_index_name(schema_editor: Any, table: str, column: str) -> str:
    # The name Django gives the pattern index of a unique or indexed CharField.
    return str(schema_editor._create_index_name(table, [column], suffix="_like"))


def like_indexes_drop(columns: list[tuple[str, str]]) -> migrations.RunPython:
    """Drop the ``varchar_pattern_ops`` copies Django adds to unique/indexed CharFields.

    PostgreSQL only. They serve nothing but ``LIKE 'prefix%'``; a column looked up by equality only
    pays for a second index on every insert. ``columns`` is ``[(table, column)]``.
    The reverse creates them again under Django's own name.
    """

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, column in columns:
            name = _like_index_name(schema_editor, table, column)
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def backward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, column in columns:
            name = _like_index_name(schema_editor, table, column)
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} "
                f"ON {schema_editor.quote_name(table)} "
                f"({schema_editor.quote_name(column)} varchar_pattern_ops)"
            )

    return migrations.RunPython(forward, backward)
