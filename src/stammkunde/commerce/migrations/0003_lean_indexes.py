"""Fewer indexes to keep up on every order insert (the import writes hundreds of thousands).

- ``order.customer``: the index (customer, -ordered_at) serves all lookups.
- Order number and external id are only compared for equality: their
  ``varchar_pattern_ops`` copies go.
"""

import django.db.models.deletion
from django.db import migrations, models

from stammkunde.core.migration_ops import like_indexes_drop


class Migration(migrations.Migration):
    dependencies = [("commerce", "0002_initial"), ("customers", "0003_lean_indexes")]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="customers.customer",
            ),
        ),
        like_indexes_drop([("commerce_order", "number"), ("commerce_order", "external_id")]),
    ]
