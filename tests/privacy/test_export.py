"""Access and portability (Art. 15, 20): one export with everything, as JSON and PDF."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from stammkunde.core.jobs.models import Job
from stammkunde.core.models import AuditEntry
from stammkunde.privacy import services
from stammkunde.privacy.models import PrivacyExport

from .factories import Person, rich_customer

pytestmark = pytest.mark.django_db

EXPECTED = {
    "customers": {"emails", "phones", "addresses", "contact_persons", "consents", "timeline"},
    "commerce": {"orders", "order_lines", "returns", "subscriptions"},
    "service": {"tickets", "ticket_messages", "ticket_attachments", "goodwill"},
    "channels": {"inbound_mails", "outbound_mails", "contact_logs"},
    "loyalty": {"loyalty_accounts", "points_ledger", "vouchers", "stamp_cards"},
    "feedback": {"survey_invitations", "survey_responses", "survey_answers"},
    "analytics": {"scores", "profiling_meaning", "profiling_your_reasons"},
    "campaigns": {"campaign_contacts", "double_opt_in"},
    "audit": {"audit_entries"},
}


@pytest.fixture
def staff(make_user: Any) -> Any:
    return make_user("agent")


def test_the_export_holds_every_app_with_rows_and_the_meaning_of_the_profiling(
    staff: Any,
) -> None:
    person = Person()
    customer = rich_customer(person, staff=staff)
    data = services.customer_data_collect(customer, language="de")["data"]
    for app, keys in EXPECTED.items():
        assert keys <= set(data[app]), app
    for app, key in [
        ("customers", "emails"),
        ("customers", "addresses"),
        ("customers", "contact_persons"),
        ("customers", "consents"),
        ("commerce", "orders"),
        ("commerce", "returns"),
        ("service", "ticket_messages"),
        ("service", "ticket_attachments"),
        ("channels", "inbound_mails"),
        ("loyalty", "vouchers"),
        ("feedback", "survey_answers"),
        ("analytics", "scores"),
        ("campaigns", "campaign_contacts"),
        ("audit", "audit_entries"),
    ]:
        assert data[app][key], (app, key)
    meaning = data["analytics"]["profiling_meaning"]
    assert set(meaning) >= {"churn_risk", "clv_12m", "value_class"}
    assert "Wahrscheinlichkeit" in meaning["churn_risk"]["what"]
    assert data["analytics"]["profiling_your_reasons"] == ["Lange kein Kauf"]
    raw = data["channels"]["inbound_mails"][0]["raw"]
    assert person.email in raw
    assert data["service"]["ticket_attachments"][0]["content_base64"]


def test_an_english_export_explains_the_profiling_in_english(staff: Any) -> None:
    customer = rich_customer(staff=staff)
    data = services.customer_data_collect(customer, language="en")["data"]
    assert "probability" in data["analytics"]["profiling_meaning"]["churn_risk"]["what"]


def test_the_export_job_writes_json_and_pdf_and_records_progress(
    staff: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = rich_customer(staff=staff)
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_start(actor=staff, customer=customer)
    export.refresh_from_db()
    assert export.status == PrivacyExport.Status.DONE
    assert export.progress == 100
    document = json.loads(Path(export.json_path).read_text(encoding="utf-8"))
    assert document["customer_number"] == customer.number
    assert Path(export.pdf_path).read_bytes().startswith(b"%PDF")
    assert export.expires_at is not None
    assert AuditEntry.objects.filter(action="export", customer_id=customer.pk).exists()
    job = Job.objects.get(kind="privacy.export")
    assert (job.status, job.params, job.started_by) == ("done", {"export_id": export.pk}, staff)


def test_an_export_file_is_handed_out_once_and_only_to_privacy_staff(
    client: Any, staff: Any, make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = rich_customer(staff=staff)
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_start(actor=staff, customer=customer)
    url = reverse("privacy:export_download", args=[export.pk, "pdf"])
    # a marketing user gets no file
    client.force_login(make_user("marketing"))
    assert client.get(url).status_code == 403
    # the agent gets it once
    client.force_login(staff)
    first = client.get(url)
    assert first.status_code == 200
    assert b"".join(first.streaming_content).startswith(b"%PDF")
    assert client.get(url).status_code == 404
    export.refresh_from_db()
    assert export.pdf_path == "" and export.json_path != ""


def test_cli_export_writes_both_files_and_prints_one_json_line(staff: Any, tmp_path: Path) -> None:
    customer = rich_customer(staff=staff)
    out = StringIO()
    call_command(
        "privacy", "export", "--customer", str(customer.pk), "--out", str(tmp_path), stdout=out
    )
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    files = json.loads(lines[0])
    assert Path(files["json"]).exists() and Path(files["pdf"]).exists()


def test_cli_export_of_an_unknown_customer_fails_without_files(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No customer"):
        call_command("privacy", "export", "--customer", "4711", "--out", str(tmp_path / "x"))
    assert not (tmp_path / "x").exists()


def test_erasure_deletes_exports_already_written(
    staff: Any, django_capture_on_commit_callbacks: Any
) -> None:
    customer = rich_customer(staff=staff)
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_start(actor=staff, customer=customer)
    export.refresh_from_db()
    paths = [Path(export.json_path), Path(export.pdf_path)]
    assert all(p.exists() for p in paths)
    with django_capture_on_commit_callbacks(execute=True):
        services.customer_erase(actor=staff, customer=customer)
    assert not any(p.exists() for p in paths)
    export.refresh_from_db()
    assert export.status == PrivacyExport.Status.DELETED
