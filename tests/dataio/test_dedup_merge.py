"""Duplicate candidates and the merge that moves everything and is audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stammkunde.commerce.models import Order
from stammkunde.core.errors import ApplicationError
from stammkunde.core.models import AuditEntry
from stammkunde.customers.models import Customer, EmailAddress
from stammkunde.customers.services import consent_record, customer_create
from stammkunde.dataio.models import DuplicatePair
from stammkunde.dataio.services.dedup import duplicates_scan, koelner_phonetik, normalise_street
from stammkunde.dataio.services.merge import customer_merge, customer_merge_preview

from ..commerce.factories import order

pytestmark = pytest.mark.django_db


def _person(
    first: str, last: str, *, email: str = "", phone: str = "", street: str = "", plz: str = ""
) -> Customer:
    addresses = [{"street": street, "postal_code": plz, "city": "Köln"}] if street else []
    return customer_create(
        actor=None,
        first_name=first,
        last_name=last,
        emails=[email] if email else [],
        phones=[phone] if phone else [],
        addresses=addresses,
    )


def test_phonetic_key_and_street_normalisation() -> None:
    assert koelner_phonetik("Meyer") == koelner_phonetik("Maier") == "67"
    assert koelner_phonetik("Müller-Lüdenscheidt") == "65752682"
    assert normalise_street("Hauptstr. 5") == normalise_street("Hauptstraße 5")


def test_scan_finds_same_email_same_phone_and_similar_name_with_address() -> None:
    # given
    a = _person("Erika", "Mustermann", email="erika@example.de")
    b = _person("Erika", "Musterman", email="ERIKA@example.de")
    c = _person("Hans", "Huber", phone="0170 1234567")
    d = _person("Johann", "Huber", phone="+49 170 1234567")
    e = _person("Jürgen", "Weiß", street="Ringstraße 12", plz="50674")
    f = _person("Jürgen", "Weiss", street="Ringstr. 12", plz="50674")
    _person("Anna", "Schmidt", street="Ringstraße 14", plz="50674")
    # when
    count = duplicates_scan()
    # then
    pairs = {(p.customer_a_id, p.customer_b_id): p for p in DuplicatePair.objects.all()}
    assert (a.pk, b.pk) in pairs and "same email" in pairs[(a.pk, b.pk)].reasons
    assert (c.pk, d.pk) in pairs and "same phone" in pairs[(c.pk, d.pk)].reasons
    assert (e.pk, f.pk) in pairs and "similar name and address" in pairs[(e.pk, f.pk)].reasons
    assert count == 3


def test_a_dismissed_pair_is_not_proposed_again() -> None:
    _person("Erika", "Mustermann", email="erika@example.de")
    _person("Erika", "Mustermann", email="erika@example.de")
    duplicates_scan()
    DuplicatePair.objects.update(status=DuplicatePair.Status.DISMISSED)
    assert duplicates_scan() == 0


def test_merge_moves_orders_consents_contact_data_and_timeline_and_is_audited(admin) -> None:
    # given
    keep = _person("Erika", "Mustermann", email="erika@example.de")
    remove = _person("Erika", "Musterman", email="erika@example.de", phone="0170 1234567")
    Customer.objects.filter(pk=remove.pk).update(external_id="SHOP-77")
    remove.refresh_from_db()
    order(remove, "B-77", at=datetime(2023, 1, 5, tzinfo=UTC))
    consent_record(
        actor=None,
        customer=remove,
        purpose="newsletter",
        channel="email",
        status="granted",
        source="shop",
    )
    # when
    preview = customer_merge_preview(keep=keep, remove=remove)
    result = customer_merge(actor=admin, keep=keep, remove=remove)
    # then
    assert preview.counts["commerce.Order.customer"] == 1 and not preview.conflicts
    assert Order.objects.get(number="B-77").customer_id == keep.pk
    assert keep.consents.count() == 1
    assert list(EmailAddress.objects.filter(customer=keep).values_list("address", flat=True)) == [
        "erika@example.de"
    ]
    assert keep.phones.get().number == "+491701234567"
    assert keep.interactions.filter(kind="purchase").exists()
    assert keep.interactions.filter(kind="merge").exists()
    remove.refresh_from_db()
    keep.refresh_from_db()
    assert remove.merged_into_id == keep.pk
    assert keep.external_id == "SHOP-77" and keep.first_purchase_at == datetime(
        2023, 1, 5, tzinfo=UTC
    )
    audit = AuditEntry.objects.get(action="merge", object_id=str(keep.pk))
    assert audit.actor == admin and audit.changes["removed"] == remove.pk
    assert result.moved["customers.Interaction.customer"] >= 2


def test_every_foreign_key_to_customers_is_moved_generically(admin) -> None:
    # given: every relation Django knows, counted before and after
    keep, remove = _person("A", "One"), _person("B", "Two")
    order(remove, "B-1")
    relations = [
        r
        for r in Customer._meta.related_objects
        if not r.many_to_many and r.related_model is not Customer
    ]
    # when
    customer_merge(actor=admin, keep=keep, remove=remove)
    # then
    for rel in relations:
        assert not rel.related_model._base_manager.filter(**{rel.field.name: remove}).exists(), rel


def test_a_customer_cannot_be_merged_twice_or_with_itself(admin) -> None:
    keep, remove = _person("A", "One"), _person("B", "Two")
    with pytest.raises(ApplicationError, match="itself"):
        customer_merge(actor=admin, keep=keep, remove=keep)
    customer_merge(actor=admin, keep=keep, remove=remove)
    with pytest.raises(ApplicationError, match="merged already"):
        customer_merge(actor=admin, keep=keep, remove=remove)


def test_the_merge_page_previews_and_merges_for_a_team_lead_only(
    admin, agent, make_user, client
) -> None:
    # given
    a = _person("Erika", "Mustermann", email="erika@example.de")
    b = _person("Erika", "Mustermann", email="erika@example.de")
    duplicates_scan()
    pair = DuplicatePair.objects.get()
    # then an agent gets 403, a team lead sees the preview and merges
    client.force_login(agent)
    assert client.get(f"/dataio/duplicates/{pair.pk}/").status_code == 403
    assert client.get("/dataio/duplicates/").status_code == 403
    client.force_login(make_user("team_lead"))
    page = client.get(f"/dataio/duplicates/{pair.pk}/?keep={a.pk}")
    assert page.status_code == 200 and a.number.encode() in page.content
    assert client.get(f"/dataio/duplicates/{pair.pk}/?keep=999999").status_code == 404
    response = client.post(f"/dataio/duplicates/{pair.pk}/", {"keep": a.pk})
    assert response.status_code == 302
    b.refresh_from_db()
    assert b.merged_into_id == a.pk
    assert DuplicatePair.objects.get().status == DuplicatePair.Status.MERGED


def test_the_duplicate_search_runs_as_a_job_started_from_the_page(
    client, admin, django_capture_on_commit_callbacks
) -> None:
    from django.urls import reverse

    from stammkunde.core.jobs.models import Job

    # given two records of the same person
    _person("Erika", "Mustermann", email="erika@example.de")
    _person("Erika", "Musterman", email="ERIKA@example.de")
    client.force_login(admin)
    client.cookies["django_language"] = "de"
    # when the search is started from the duplicates page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dataio:duplicates"))
    # then it ran as a recorded job, started by the user, and the page shows its result
    assert response.status_code == 302
    job = Job.objects.get(kind="dataio.duplicates_scan")
    assert job.status == Job.Status.DONE, job.error
    assert job.started_by == admin and job.result == {"open": 1}
    page = client.get(reverse("dataio:duplicates")).content.decode()
    assert "Letzte Suche" in page
    assert page.count(reverse("dataio:merge", args=[DuplicatePair.objects.get().pk])) == 1
