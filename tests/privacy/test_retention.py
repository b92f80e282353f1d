"""Retention: periods per kind of data, a dry run that lists what would go, the job applies."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from stammkunde.channels.models import InboundMessage
from stammkunde.channels.services import mail_ingest
from stammkunde.core.errors import ApplicationError
from stammkunde.core.jobs.registry import kind_get
from stammkunde.core.models import AuditEntry
from stammkunde.customers.models import Customer
from stammkunde.privacy import selectors, services
from tests.customers.factories import CustomerFactory
from tests.privacy.factories import Person, _raw_mail
from tests.service.factories import queue

pytestmark = pytest.mark.django_db

LATER = timedelta(days=4000)  # past every default period


def test_every_kind_has_a_sensible_default() -> None:
    days = selectors.retention_days()
    assert days["exports"] == 7
    assert days["raw_mail"] == 90
    assert set(days) == {
        "raw_mail",
        "quarantine",
        "closed_tickets",
        "survey_text",
        "audit",
        "prospects",
        "exports",
    }


def test_a_dry_run_counts_and_changes_nothing() -> None:
    prospect = CustomerFactory(first_name="Interessent")
    queue()
    mail_ingest(raw=_raw_mail(Person(), "Frage", "Hallo", "<r1@example.de>"))
    entries = AuditEntry.objects.count()
    counts = services.retention_apply(dry_run=True, now=timezone.now() + LATER)
    assert counts["prospects"] >= 1
    assert counts["raw_mail"] == 1
    assert counts["audit"] == entries
    prospect.refresh_from_db()
    assert prospect.erased_at is None
    assert AuditEntry.objects.count() == entries
    assert InboundMessage.objects.get().size > 0


def test_applying_erases_old_prospects_and_drops_old_raw_mail() -> None:
    prospect = CustomerFactory(first_name="Interessent", last_name="Alt")
    queue()
    mail_ingest(raw=_raw_mail(Person(), "Frage", "Hallo", "<r2@example.de>"))
    services.retention_apply(now=timezone.now() + LATER)
    prospect.refresh_from_db()
    assert prospect.erased_at is not None and prospect.last_name == ""
    inbound = InboundMessage.objects.get()
    assert bytes(inbound.raw) == b"" and inbound.size == 0


def test_a_recent_prospect_stays() -> None:
    prospect = CustomerFactory(first_name="Neu")
    services.retention_apply()
    assert Customer.objects.get(pk=prospect.pk).erased_at is None


def test_periods_are_set_by_team_leads_and_validated(make_user: Any, agent: Any) -> None:
    lead = make_user("team_lead")
    assert services.retention_set(actor=lead, days={"raw_mail": 30})["raw_mail"] == 30
    with pytest.raises(ApplicationError):
        services.retention_set(actor=lead, days={"raw_mail": 0})
    with pytest.raises(ApplicationError):
        services.retention_set(actor=agent, days={"raw_mail": 10})
    assert selectors.retention_days()["raw_mail"] == 30


def test_the_retention_page_saves_and_shows_a_dry_run(
    client: Any, make_user: Any, agent: Any
) -> None:
    client.force_login(agent)
    assert client.get(reverse("privacy:retention")).status_code == 403
    client.force_login(make_user("admin"))
    data = {k: v for k, v in selectors.retention_days().items()}
    data["audit"] = 400
    assert client.post(reverse("privacy:retention"), data).status_code == 302
    assert selectors.retention_days()["audit"] == 400
    page = client.get(reverse("privacy:retention") + "?dry_run=1").content.decode()
    assert 'id="dry-run"' in page


def test_cli_retention_dry_run_prints_one_line_per_kind() -> None:
    out = StringIO()
    call_command("privacy", "retention", "--dry-run", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 7
    assert all("would go" in line for line in lines)


def test_retention_is_a_scheduled_job() -> None:
    kind = kind_get("privacy.retention_apply")
    assert kind.schedule is not None


def test_records_of_processing_show_the_periods_as_set(client: Any, make_user: Any) -> None:
    lead = make_user("team_lead")
    services.retention_set(actor=lead, days={"survey_text": 123})
    client.force_login(lead)
    page = client.get(reverse("privacy:records"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "123 days" in page
    assert "HGB" in page
