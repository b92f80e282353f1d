"""Drop the beat entry the app once added by hand (``dataio-webhooks-deliver``).

``celery beat`` with the database scheduler copied it into ``PeriodicTask``;
the retries are now the scheduled job kind ``dataio.webhooks_deliver_due``
(a row of its own, written after every migrate), so the old row would only
send the same due deliveries a second time.
"""

from django.db import migrations


def drop_old_entry(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(
        name="dataio-webhooks-deliver", task="dataio.webhooks_deliver"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dataio", "0002_webhook_allow_private"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(drop_old_entry, migrations.RunPython.noop)]
