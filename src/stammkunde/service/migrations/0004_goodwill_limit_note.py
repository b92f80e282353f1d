from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0003_goodwill_request_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="goodwillgrant",
            name="limit_note",
            field=models.CharField(blank=True, max_length=300, verbose_name="limit"),
        ),
    ]
