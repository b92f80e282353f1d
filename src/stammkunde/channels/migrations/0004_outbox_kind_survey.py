from django.db import migrations, models


class Migration(migrations.Migration):
    """Survey invitations are queued in the outbox like every other mail."""

    dependencies = [
        ("channels", "0003_outbox_delivery_state"),
    ]

    operations = [
        migrations.AlterField(
            model_name="outboxmessage",
            name="kind",
            field=models.CharField(
                choices=[
                    ("reply", "reply"),
                    ("confirmation", "confirmation"),
                    ("campaign", "campaign mail"),
                    ("survey", "survey mail"),
                ],
                default="reply",
                max_length=20,
            ),
        ),
    ]
