"""Prefix search indexes on PostgreSQL.

With a non-C collation PostgreSQL cannot use a plain btree for ``LIKE 'abc%'``;
``varchar_pattern_ops`` indexes make name and email prefix search an index scan
at a million customers. SQLite's LIKE optimisation needs nothing extra.
"""

from django.db import migrations

INDEXES = [
    ("customers_customer_search_name_pat", "customers_customer", "search_name"),
    ("customers_emailaddress_address_pat", "customers_emailaddress", "address"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column} varchar_pattern_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
