"""Customer search that finds people (docs/customers.md, "Search").

- ``search_name`` is refolded: umlauts transliterated, accents and punctuation
  dropped (``customers.normalize.search_text``), in batches of committed rows.
- PostgreSQL: the ``pg_trgm`` extension and a GIN trigram index on
  ``search_name`` (built ``CONCURRENTLY``: writes go on during the build). It
  replaces the prefix index: the search compares words anywhere, not prefixes.
- Addresses: an index on the postcode and one on the folded city, for search
  by postcode and city on both databases.

Not atomic: the index is built concurrently and each batch commits on its own,
so the migration holds no long lock on a large customer table.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models, transaction

from stammkunde.customers.models import city_folded
from stammkunde.customers.normalize import search_text

BATCH = 2000
TRGM_INDEX = "customer_search_name_trgm"


def refold(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    after = 0
    while True:
        rows = list(
            Customer.objects.filter(pk__gt=after)
            .order_by("pk")
            .only("pk", "last_name", "first_name", "company_name", "search_name")[:BATCH]
        )
        if not rows:
            return
        changed = []
        for row in rows:
            folded = search_text(row.last_name, row.first_name, row.company_name)
            if folded != row.search_name:
                row.search_name = folded
                changed.append(row)
        with transaction.atomic(using=schema_editor.connection.alias):
            Customer.objects.bulk_update(changed, ["search_name"])
        after = rows[-1].pk


def trigram_index_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {TRGM_INDEX} "
            "ON customers_customer USING gin (search_name gin_trgm_ops)"
        )


def trigram_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {TRGM_INDEX}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("customers", "0004_suppressed_contact")]

    operations = [
        migrations.RunPython(refold, migrations.RunPython.noop, atomic=False),
        TrigramExtension(),
        migrations.RunPython(trigram_index_create, trigram_index_drop, atomic=False),
        migrations.RemoveIndex(model_name="customer", name="customer_search_name_prefix"),
        migrations.AddIndex(
            model_name="address",
            index=models.Index(fields=["postal_code"], name="address_postal_code"),
        ),
        migrations.AddIndex(
            model_name="address",
            index=models.Index(city_folded("city"), name="address_city_folded"),
        ),
    ]
