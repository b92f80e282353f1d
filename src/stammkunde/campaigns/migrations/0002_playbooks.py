"""The phase playbooks, switched off, ready for the business to edit and switch on."""

from decimal import Decimal

from django.db import migrations

PLAYBOOKS = [
    {
        "playbook_phase": "new", "playbook_step": 1, "name": "Neukunden: Willkommen",
        "offer_kind": "information", "channel": "email", "trigger": "phase_change",
        "trigger_phase": "new", "subject": "Willkommen, {first_name}!",
        "body": "Hallo {first_name},\n\nschön, dass Sie bei uns gekauft haben. Hier finden Sie "
                "Pflegetipps, unsere Werkstatt-Termine und Ihren Ansprechpartner.",
        "cost_per_contact": Decimal("0.05"), "expected_uplift": 0.01,
    },
    {
        "playbook_phase": "new", "playbook_step": 2, "name": "Neukunden: Tipps nach 14 Tagen",
        "offer_kind": "information", "channel": "email", "trigger": "after_purchase",
        "trigger_days": 14, "subject": "Wie fährt sich Ihr Einkauf, {first_name}?",
        "body": "Hallo {first_name},\n\nzwei Wochen nach Ihrem Kauf: Haben Sie Fragen? "
                "Unsere Werkstatt prüft Schaltung und Bremsen kostenlos.",
        "cost_per_contact": Decimal("0.05"), "expected_uplift": 0.01,
    },
    {
        "playbook_phase": "established", "playbook_step": 1,
        "name": "Stammkunden: Club und Service-Abo",
        "offer_kind": "points", "offer_points": 200, "channel": "email",
        "trigger": "phase_change", "trigger_phase": "established",
        "subject": "{first_name}, 200 Bonuspunkte für Sie im Kundenclub",
        "body": "Hallo {first_name},\n\nals Stammkunde erhalten Sie {points} Bonuspunkte. "
                "Mit unserem Service-Abo bleibt Ihr Rad das ganze Jahr in Form.",
        "cost_per_contact": Decimal("0.05"), "offer_cost": Decimal("1.00"),
        "expected_uplift": 0.02,
    },
    {
        "playbook_phase": "churn_prone", "playbook_step": 1,
        "name": "Abwanderungsgefährdet: persönlicher Anruf",
        "offer_kind": "free_service", "offer_text": "kostenloser Rad-Check in der Werkstatt",
        "channel": "phone", "trigger": "phase_change", "trigger_phase": "churn_prone",
        "subject": "Persönlicher Anruf",
        "body": "Nachfragen, ob alles in Ordnung ist; kostenlosen Rad-Check anbieten.",
        "cost_per_contact": Decimal("4.00"), "offer_cost": Decimal("2.00"),
        "expected_uplift": 0.08, "priority": 10,
    },
    {
        "playbook_phase": "churning", "playbook_step": 1,
        "name": "Abwandernd: Rückgewinnung mit Gutschein",
        "offer_kind": "voucher", "offer_value": Decimal("15.00"), "channel": "email",
        "trigger": "phase_change", "trigger_phase": "churning",
        "subject": "{first_name}, wir vermissen Sie – 15 € Gutschein",
        "body": "Hallo {first_name},\n\nwir haben Sie lange nicht gesehen. Mit dem Code "
                "{voucher_code} sparen Sie 15 € bei Ihrem nächsten Einkauf.",
        "cost_per_contact": Decimal("0.05"), "offer_cost": Decimal("2.00"),
        "expected_uplift": 0.04, "priority": 20,
    },
]


def create(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    for data in PLAYBOOKS:
        exists = Campaign.objects.filter(
            playbook_phase=data["playbook_phase"], playbook_step=data["playbook_step"]
        ).exists()
        if not exists:
            Campaign.objects.create(status="draft", **data)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
