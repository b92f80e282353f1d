"""Fewer indexes to keep up on every insert and update of customers and timeline entries.

- ``interaction.customer``: the index (customer, -occurred_at) serves all lookups.
- The ``_pat`` indexes of 0002 repeat the pattern indexes Django already
  creates for indexed CharFields (``..._like``): dropped, prefix search keeps
  its index. ``search_name`` keeps only that pattern index (nothing sorts by it).
- Customer number, external id and value class are only compared for
  equality: their pattern copies go.
"""

import django.db.models.deletion
from django.db import migrations, models

from stammkunde.core.migration_ops import like_indexes_drop


PAT = [
    ("customers_customer_search_name_pat", "customers_customer", "search_name"),
    ("customers_emailaddress_address_pat", "customers_emailaddress", "address"),
]


def drop_pat(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _table, _column in PAT:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_pat(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, table, column in PAT:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column} varchar_pattern_ops)"
            )


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_prefix_search_indexes")]

    operations = [
        migrations.AlterField(
            model_name="interaction",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="interactions",
                to="customers.customer",
            ),
        ),
        migrations.RunPython(drop_pat, create_pat),
        migrations.AlterField(
            model_name="customer",
            name="search_name",
            field=models.CharField(editable=False, max_length=400),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                fields=["search_name"],
                name="customer_search_name_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        like_indexes_drop(
            [
                ("customers_customer", "number"),
                ("customers_customer", "external_id"),
                ("customers_customer", "value_class"),
            ]
        ),
    ]
