"""Erasure (DSGVO Art. 17): nothing of the person is left but pseudonymised tax records."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from stammkunde.commerce.models import Order, Return
from stammkunde.core.errors import ApplicationError
from stammkunde.core.models import AuditEntry
from stammkunde.customers.models import Customer
from stammkunde.customers.services import customer_create
from stammkunde.loyalty.models import PointsEntry
from stammkunde.privacy import services
from stammkunde.service.models import Ticket

from .factories import Person, rich_customer

pytestmark = pytest.mark.django_db


def database_hits(needles: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) whose stored value contains a needle.

    Generic on purpose: every table the database has, every column, read back
    as text, so that a new model holding personal data is caught without
    anyone adding it to a list.
    """
    lowered = [n.lower() for n in needles]
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, memoryview):
                        value = bytes(value)
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if not isinstance(value, str):
                        continue
                    text = value.lower()
                    hits.extend((table, column, n) for n in lowered if n in text)
    return hits


@pytest.fixture
def staff(make_user: Any) -> Any:
    return make_user("agent")


def test_the_scan_finds_the_person_everywhere_before_the_erasure(staff: Any) -> None:
    # given a customer with data in every app
    rich_customer(staff=staff)
    # then the generic scan sees them in many tables (the check below can fail)
    tables = {table for table, _, _ in database_hits(Person().secrets())}
    assert len(tables) >= 10, tables


def test_the_scan_looks_for_the_first_name_and_the_phone_as_written_at_home(staff: Any) -> None:
    # given the person's first name and their phone in national format ("0170 5550123")
    person = Person()
    assert person.first_name in person.secrets()
    assert person.phone_national == "0170 5550123"
    assert person.phone_national in person.secrets()
    # when a customer with data in every app is built
    rich_customer(person, staff=staff)
    # then every string the scan looks for is really stored somewhere before the erasure
    found = {needle for _, _, needle in database_hits(person.secrets())}
    assert found == {s.lower() for s in person.secrets()}


def test_after_erasure_no_email_phone_name_or_street_is_left_anywhere(
    staff: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a customer with data in every app, and an export already written
    person = Person()
    customer = rich_customer(person, staff=staff)
    with django_capture_on_commit_callbacks(execute=True):
        export = services.export_start(actor=staff, customer=customer)
    export.refresh_from_db()
    assert export.status == "done"
    # when they are erased
    services.customer_erase(actor=staff, customer=customer)
    # then none of their e-mail, phone, name or street is in any table
    assert database_hits(person.secrets()) == []


def test_erasure_keeps_orders_returns_tickets_and_ledger_pseudonymised(staff: Any) -> None:
    customer = rich_customer(staff=staff)
    points_before = sum(PointsEntry.objects.values_list("points", flat=True))
    tickets_before = Ticket.objects.filter(customer=customer).count()
    # when
    result = services.customer_erase(actor=staff, customer=customer)
    # then the tax records stay, listed in the answer, on the pseudonymous customer
    assert Order.objects.filter(customer=customer).count() == 1
    assert Return.objects.filter(customer=customer).count() == 1
    assert result["kept"]["orders"] == 1
    assert result["kept"]["returns (credit notes)"] == 1
    assert Ticket.objects.filter(customer=customer).count() == tickets_before
    assert sum(PointsEntry.objects.values_list("points", flat=True)) == points_before
    erased = Customer.objects.get(pk=customer.pk)
    assert erased.erased_at is not None
    assert erased.number == customer.number


def test_a_second_erasure_is_refused_and_changes_nothing(staff: Any) -> None:
    customer = rich_customer(staff=staff)
    services.customer_erase(actor=staff, customer=customer)
    entries = AuditEntry.objects.count()
    with pytest.raises(ApplicationError) as exc:
        services.customer_erase(actor=staff, customer=customer)
    assert exc.value.code == "already_erased"
    assert AuditEntry.objects.count() == entries


def test_erasure_is_all_or_nothing(staff: Any, monkeypatch: Any) -> None:
    # given an app whose erasure fails half way
    person = Person()
    customer = rich_customer(person, staff=staff)

    def broken(**kwargs: Any) -> dict[str, int]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.customers_services, "customer_data_erase", broken)
    with pytest.raises(RuntimeError):
        services.customer_erase(actor=staff, customer=customer)
    # then nothing was erased in any app
    customer.refresh_from_db()
    assert customer.erased_at is None
    assert Ticket.objects.filter(customer=customer, subject__startswith="Reklamation").exists()
    assert customer.emails.filter(address=person.email).exists()


def test_an_erased_address_cannot_be_created_again(staff: Any) -> None:
    person = Person()
    services.customer_erase(actor=staff, customer=rich_customer(person, staff=staff))
    with pytest.raises(ApplicationError) as exc:
        customer_create(actor=staff, last_name="Neu", emails=[person.email.upper()])
    assert exc.value.code == "suppressed"
    with pytest.raises(ApplicationError):
        customer_create(actor=staff, last_name="Neu", phones=["0170 5550123"])


def test_cli_erase_needs_yes_and_refuses_unknown_and_erased_customers(staff: Any) -> None:
    customer = rich_customer(staff=staff)
    with pytest.raises(CommandError, match="--yes"):
        call_command("privacy", "erase", "--customer", str(customer.pk))
    with pytest.raises(CommandError, match="No customer"):
        call_command("privacy", "erase", "--customer", "999999", "--yes")
    call_command("privacy", "erase", "--customer", customer.number, "--yes")
    with pytest.raises(CommandError, match="already erased"):
        call_command("privacy", "erase", "--customer", str(customer.pk), "--yes")


def test_erasure_deletes_list_exports_and_the_duplicates_merged_into_the_record(
    make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from pathlib import Path

    from stammkunde.dataio.models import ExportJob
    from stammkunde.dataio.services.exports import export_create
    from stammkunde.dataio.services.merge import customer_merge

    # given a customer, an older duplicate of them merged into the record, and a customer
    # list written to a file that names them
    admin = make_user("admin")
    person = Person()
    customer = rich_customer(person, staff=admin)
    duplicate = customer_create(actor=None, first_name="Hanne", last_name="Zylinderkopf-Alt")
    customer_merge(actor=None, keep=customer, remove=duplicate)
    job = export_create(actor=admin, kind="customers", file_format="csv", filters={})
    path = Path(job.file_path)
    assert person.street in path.read_text(encoding="utf-8-sig")
    # when the customer is erased
    with django_capture_on_commit_callbacks(execute=True):
        result = services.customer_erase(actor=admin, customer=customer)
    # then the file is gone, its row says why, and the duplicate is erased too
    assert not path.exists()
    job.refresh_from_db()
    assert job.file_path == "" and "erased" in job.message
    assert result["erased"]["list_exports"] == 1
    assert result["erased"]["merged_records"] == 1
    assert Customer.objects.get(pk=duplicate.pk).erased_at is not None
    assert database_hits([*person.secrets(), "Zylinderkopf-Alt"]) == []
    assert ExportJob.objects.filter(pk=job.pk).exists()


def test_after_erasure_the_attachment_files_are_gone_from_disk(
    staff: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from stammkunde.service import services as service_services
    from stammkunde.service.models import Attachment
    from tests.service.factories import ticket

    # given a ticket of the customer with a real file under the (temporary) media root
    person = Person()
    customer = rich_customer(person, staff=staff)
    own = ticket(customer=customer, subject="Foto", body="Anbei ein Foto.")
    service_services.attachment_add(
        actor=staff,
        ticket=own,
        upload=SimpleUploadedFile("schaden.png", b"\x89PNG fake image", "image/png"),
    )
    paths = [Path(a.file.path) for a in Attachment.objects.filter(ticket__customer=customer)]
    assert len(paths) == 2 and all(p.exists() for p in paths)
    assert all(p.is_relative_to(Path(settings.MEDIA_ROOT)) for p in paths)
    # when the customer is erased and the transaction commits
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = services.customer_erase(actor=staff, customer=customer)
    # then the rows and the files are gone
    assert callbacks
    assert result["erased"]["ticket_attachments"] == 2
    assert not Attachment.objects.filter(ticket__customer=customer).exists()
    assert [p for p in paths if p.exists()] == []


def test_after_erasure_the_feedback_themes_no_longer_quote_the_person(
    client: Any, make_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.cache import cache
    from django.urls import reverse

    from stammkunde.feedback import services as feedback_services
    from stammkunde.feedback.models import Survey
    from tests.customers.factories import CustomerFactory

    # given survey comments of the person and of others, and a report that cached its themes
    person = Person()
    customer = CustomerFactory(first_name=person.first_name, last_name=person.last_name)
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
    texts = [(customer, f"{person.first_name} {person.last_name}, {person.street}: Kette")] * 4
    others = ["Lieferung kam zu spät", "Kette springt nach dem Kauf", "Sehr freundliche Hotline"]
    texts += [(CustomerFactory(), f"{others[i % 3]}, Bestellung {i}") for i in range(10)]
    for i, (who, text) in enumerate(texts):
        feedback_services.response_submit(
            answers={csat: 3, comment: text},
            version=version,
            customer=who,
            source="api",
            idempotency_key=f"t{i}",
        )
    feedback_services.themes_cache_clear()  # nothing left from other tests in this process
    admin = make_user("admin")
    client.force_login(admin)
    report = reverse("feedback:report")
    assert person.last_name in client.get(report).content.decode()
    key = feedback_services.themes_cache_key(source="answers", days=365)
    assert person.last_name in repr(cache.get(key))
    # when the person is erased and the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        services.customer_erase(actor=admin, customer=customer)
    # then no cached theme holds their words, and the report recomputes without them
    assert cache.get(key) is None
    page = client.get(report).content.decode()
    assert not [s for s in person.secrets() if s.lower() in page.lower()]
    cached = repr(cache.get(feedback_services.themes_cache_key(source="answers", days=365)))
    assert "Kette" in cached or "Lieferung" in cached
    assert not [s for s in person.secrets() if s.lower() in cached.lower()]
