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


# ------------------------------------------------------- apply, kind by kind
#
# Each test keeps one row older than the kind's period and one younger, runs the
# dry run and then the job, and checks that the dry run counted what the job did.


def _ago(kind: str, *, days: int = 1) -> Any:
    """A moment ``days`` beyond (positive) or within (negative) the period of ``kind``."""
    return timezone.now() - timedelta(days=selectors.retention_days()[kind] + days)


def _dry_run_then_apply() -> dict[str, int]:
    would = services.retention_apply(dry_run=True)
    did = services.retention_apply()
    assert would == did
    return did


def test_applying_deletes_old_quarantined_mail_and_keeps_young_and_routed_mail() -> None:
    queue()
    old = mail_ingest(raw=b"no headers at all").inbound_id
    young = mail_ingest(raw=b"no headers either").inbound_id
    routed = mail_ingest(raw=_raw_mail(Person(), "Frage", "Hallo", "<q1@example.de>")).inbound_id
    assert InboundMessage.objects.filter(pk__in=[old, young], result="quarantined").count() == 2
    InboundMessage.objects.filter(pk__in=[old, routed]).update(received_at=_ago("quarantine"))
    # when
    did = _dry_run_then_apply()
    # then the old quarantined mail is gone; the young one and the routed one stay
    assert did["quarantine"] == 1
    assert set(InboundMessage.objects.values_list("pk", flat=True)) == {young, routed}
    assert InboundMessage.objects.get(pk=young).size > 0


def test_applying_blanks_texts_of_long_closed_tickets_and_their_files(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from stammkunde.core.personal import ERASED
    from stammkunde.service import services as service_services
    from stammkunde.service.models import Message, Ticket
    from tests.service.factories import ticket

    def closed(subject: str, at: Any) -> Ticket:
        t = ticket(subject=subject, body=f"Text zu {subject}", now=timezone.now())
        service_services.attachment_add(
            actor=None, ticket=t, upload=SimpleUploadedFile(f"{subject}.txt", b"Foto", "text/plain")
        )
        Ticket.objects.filter(pk=t.pk).update(status="closed", closed_at=at)
        return t

    old = closed("alt", _ago("closed_tickets"))
    young = closed("jung", _ago("closed_tickets", days=-30))
    still_open = ticket(subject="offen", now=timezone.now())
    files = {t.pk: Path(t.attachments.get().file.path) for t in (old, young)}
    # when
    with django_capture_on_commit_callbacks(execute=True):
        did = _dry_run_then_apply()
    # then the old ticket keeps its row, not its texts or files; the others keep everything
    assert did["closed_tickets"] == 1
    old.refresh_from_db()
    assert old.subject == ERASED and old.status == "closed"
    assert set(Message.objects.filter(ticket=old).values_list("body", flat=True)) == {ERASED}
    assert not old.attachments.exists() and not files[old.pk].exists()
    assert Ticket.objects.get(pk=young.pk).subject == "jung"
    assert Message.objects.filter(ticket=young, body="Text zu jung").exists()
    assert young.attachments.exists() and files[young.pk].exists()
    assert Ticket.objects.get(pk=still_open.pk).subject == "offen"


def test_applying_blanks_old_survey_comments_keeps_scores_and_clears_the_theme_cache(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django.core.cache import cache

    from stammkunde.feedback import services as feedback_services
    from stammkunde.feedback.models import Answer, Response, Survey

    survey = feedback_services.survey_create(
        actor=None,
        name="CSAT",
        kind=Survey.Kind.CSAT,
        title_de="Wie zufrieden?",
        title_en="How satisfied?",
        questions=[
            {"type": "csat", "text_de": "Zufriedenheit?", "text_en": "Satisfaction?"},
            {"type": "text", "text_de": "Kommentar", "text_en": "Comment", "optional": True},
        ],
        publish=True,
    )
    version = survey.current_version
    csat, comment = (f"q{q.pk}" for q in version.questions.order_by("order"))  # type: ignore[union-attr]
    responses = {}
    for word in ("alt", "jung"):
        responses[word] = feedback_services.response_submit(
            answers={csat: 4, comment: f"Kommentar {word}"},
            version=version,
            customer=CustomerFactory(),
            source="api",
            idempotency_key=word,
        ).response
    Response.objects.filter(pk=responses["alt"].pk).update(submitted_at=_ago("survey_text"))
    key = feedback_services.themes_cache_key(source="answers", days=3650)
    cache.set(key, ["Kommentar alt"], 600)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        did = _dry_run_then_apply()
    # then the old comment is blank, its score stays; the young comment stays
    assert did["survey_text"] == 1
    assert not Answer.objects.filter(text="Kommentar alt").exists()
    assert Answer.objects.filter(response=responses["alt"], text="").exists()
    assert Answer.objects.filter(response=responses["jung"], text="Kommentar jung").exists()
    assert Response.objects.get(pk=responses["alt"].pk).csat == 4
    assert cache.get(key) is None


def test_applying_deletes_old_audit_entries_and_keeps_young_ones() -> None:
    from stammkunde.core.audit import audit_record

    customer = CustomerFactory()
    old = audit_record(actor=None, action="update", obj=customer, customer_id=customer.pk)
    young = audit_record(actor=None, action="update", obj=customer, customer_id=customer.pk)
    AuditEntry.objects.filter(pk=old.pk).update(at=_ago("audit"))
    AuditEntry.objects.filter(pk=young.pk).update(at=_ago("audit", days=-1))
    # when
    did = _dry_run_then_apply()
    # then
    assert did["audit"] == 1
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert AuditEntry.objects.filter(pk=young.pk).exists()


def test_applying_deletes_the_files_of_expired_exports_and_keeps_fresh_ones(
    make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from pathlib import Path

    from stammkunde.privacy.models import PrivacyExport

    staff = make_user("agent")
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        old = services.export_start(actor=staff, customer=customer)
        young = services.export_start(actor=staff, customer=customer)
    for export in (old, young):
        export.refresh_from_db()
        assert export.status == "done" and Path(export.json_path).exists()
    PrivacyExport.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    files = {e.pk: [Path(e.json_path), Path(e.pdf_path)] for e in (old, young)}
    # when
    did = _dry_run_then_apply()
    # then the expired export's files are gone and it says so; the fresh one is untouched
    assert did["exports"] == 1
    old.refresh_from_db()
    young.refresh_from_db()
    assert old.status == "deleted" and old.json_path == "" and old.pdf_path == ""
    assert not any(p.exists() for p in files[old.pk])
    assert young.status == "done" and all(p.exists() for p in files[young.pk])
