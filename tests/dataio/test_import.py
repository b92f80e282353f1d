"""The import engine on the example files and on broken files."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from stammkunde.commerce.models import Order, OrderLine, Product, Return, Subscription
from stammkunde.core.models import AuditEntry
from stammkunde.customers.models import Customer, EmailAddress, Interaction
from stammkunde.dataio.models import ImportJob, ImportSource
from stammkunde.dataio.readers import FileError
from stammkunde.dataio.services.import_jobs import import_job_create, import_job_run
from stammkunde.dataio.services.imports import import_file

from .conftest import EXAMPLES, write

pytestmark = pytest.mark.django_db
GOOD = ImportJob.Mode.GOOD_ROWS
ALL = ImportJob.Mode.ALL_OR_NOTHING


def test_the_example_files_import_in_order_without_errors(shop) -> None:
    # given products and customers (fixture), when the rest is imported
    for kind, name in [
        ("customers", "customers_shop.csv"),
        ("orders", "bestellungen_excel.csv"),
        ("orders", "orders_shop.jsonl"),
        ("returns", "returns.jsonl"),
        ("subscriptions", "abos_excel.csv"),
    ]:
        result = import_file(kind=kind, path=EXAMPLES / name)
        assert result.failed == 0, result.errors
    # then
    assert Product.objects.get(sku="RAD-CITY-28").price == Decimal("1299.00")
    assert Customer.objects.get(external_id="POS-1003").kind == Customer.Kind.COMPANY
    order = Order.objects.get(external_id="B-2024-0001")
    assert order.total == Decimal("1258.90") == sum(line.line_total for line in order.lines.all())
    assert Order.objects.get(external_id="B-2024-0004").total == Decimal("2849.90") + 2 * Decimal(
        "59.90"
    )
    assert Return.objects.get(external_id="RET-1").refund == Decimal("59.90")
    assert (
        Subscription.objects.get(external_id="ABO-2").cancellation_reason == "zu teuer\r\nzieht weg"
    )
    assert (
        Customer.objects.get(external_id="SHOP-77").addresses.get().street
        == "Hauptstraße 5\r\nHinterhaus"
    )


def test_imported_orders_set_first_purchase_and_the_timeline(shop) -> None:
    # when
    import_file(kind="orders", path=EXAMPLES / "bestellungen_excel.csv")
    # then
    erika = Customer.objects.get(external_id="POS-1001")
    assert erika.first_purchase_at is not None
    assert erika.first_purchase_at.isoformat() == "2024-06-03T08:12:00+00:00"
    entry = Interaction.objects.get(customer=erika, kind="purchase")
    assert entry.text_key == "commerce.order"
    assert entry.text_params == {"number": "B-2024-0001", "total": "1258.90"}
    assert entry.summary == "Bestellung B-2024-0001: 1258,90 EUR"  # the site's language
    assert entry.source == Order.objects.get(external_id="B-2024-0001")


def test_new_customers_get_numbers_from_one_block_and_an_audit_entry(db) -> None:
    # when
    import_file(kind="customers", path=EXAMPLES / "kunden.xlsx")
    # then
    numbers = sorted(Customer.objects.values_list("number", flat=True))
    assert numbers == [f"K{i:07d}" for i in range(1, 6)]
    assert AuditEntry.objects.filter(action="create", object_type="customers.Customer").count() == 5
    assert EmailAddress.objects.get(customer__external_id="POS-1001").is_primary


def test_importing_the_same_file_again_changes_nothing(shop) -> None:
    # given
    import_file(kind="orders", path=EXAMPLES / "bestellungen_excel.csv")
    before = (Order.objects.count(), OrderLine.objects.count(), Interaction.objects.count())
    # when
    again = import_file(kind="orders", path=EXAMPLES / "bestellungen_excel.csv")
    customers = import_file(kind="customers", path=EXAMPLES / "kunden.xlsx")
    # then
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert customers.unchanged == 5
    assert (Order.objects.count(), OrderLine.objects.count(), Interaction.objects.count()) == before


def test_a_changed_row_updates_the_record_found_by_external_id(db, tmp_path) -> None:
    # given
    import_file(
        kind="customers", path=write(tmp_path, "a.csv", "external_id,last_name\nX1,Meier\n")
    )
    # when
    result = import_file(
        kind="customers", path=write(tmp_path, "b.csv", "external_id,last_name\nX1,Maier\n")
    )
    # then
    assert result.updated == 1
    customer = Customer.objects.get(external_id="X1")
    assert (customer.last_name, customer.search_name, customer.version) == ("Maier", "maier", 2)


def test_errors_name_file_line_and_column(shop) -> None:
    # when
    result = import_file(kind="orders", path=EXAMPLES / "bestellungen_fehlerhaft.csv", mode=GOOD)
    # then
    texts = sorted(e["text"] for e in result.errors)
    assert "bestellungen_fehlerhaft.csv, Zeile 3, Spalte „Kunden-ID“: unbekannter Kunde" in texts
    assert any(
        t.startswith("bestellungen_fehlerhaft.csv, Zeile 4, Spalte „Bestelldatum“") for t in texts
    )
    assert (
        "bestellungen_fehlerhaft.csv, Zeile 5, Spalte „Artikelnummer“: "
        "unbekanntes Produkt „GIBTS-NICHT“" in texts
    )
    assert "bestellungen_fehlerhaft.csv, Zeile 6, Spalte „Menge“: muss mindestens 1 sein" in texts
    assert any(
        "Zeile 7, Spalte „Gesamt“: 100,00 ist nicht die Summe der Positionen (119,80)" in t
        for t in texts
    )
    assert any(
        t.startswith("bestellungen_fehlerhaft.csv, Zeile 8, Spalte „Einzelpreis“") for t in texts
    )
    assert (result.created, result.failed) == (2, 6)
    # and in English
    english = import_file(
        kind="orders", path=EXAMPLES / "bestellungen_fehlerhaft.csv", mode=GOOD, language="en"
    )
    texts = sorted(e["text"] for e in english.errors)
    assert (
        "bestellungen_fehlerhaft.csv, line 5, column “Artikelnummer”: unknown product “GIBTS-NICHT”"
        in texts
    )
    assert any(
        "line 7, column “Gesamt”: 100.00 is not the sum of the lines (119.80)" in t for t in texts
    )


def test_good_rows_mode_imports_the_good_rows_and_writes_the_bad_ones_to_a_csv(shop) -> None:
    # when
    result = import_file(kind="orders", path=EXAMPLES / "bestellungen_fehlerhaft.csv", mode=GOOD)
    # then
    assert set(Order.objects.values_list("external_id", flat=True)) == {
        "B-2024-0100",
        "B-2024-0107",
    }
    with open(result.report_path, encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert sorted(int(r["Zeile"]) for r in rows) == [3, 4, 5, 6, 7, 8]
    assert {r["Bestellnummer"] for r in rows} >= {"B-2024-0101", "B-2024-0106"}


def test_all_or_nothing_leaves_nothing_when_one_row_is_bad(shop) -> None:
    # given
    counts = (Order.objects.count(), OrderLine.objects.count(), Interaction.objects.count())
    # when
    result = import_file(kind="orders", path=EXAMPLES / "bestellungen_fehlerhaft.csv", mode=ALL)
    # then
    assert result.status == ImportJob.Status.ROLLED_BACK
    assert result.failed == 6 and result.created == 0
    assert (Order.objects.count(), OrderLine.objects.count(), Interaction.objects.count()) == counts
    assert Customer.objects.filter(first_purchase_at__isnull=False).count() == 0


def test_a_dry_run_counts_what_would_change_and_writes_nothing(shop) -> None:
    # when
    result = import_file(kind="orders", path=EXAMPLES / "bestellungen_excel.csv", dry_run=True)
    # then
    assert (result.created, result.failed) == (6, 0)
    assert "Probelauf" in result.message
    assert not Order.objects.exists()


def test_lines_of_an_order_with_a_bad_line_all_fail(shop, tmp_path) -> None:
    # given an order whose second line has an unknown product
    path = write(
        tmp_path,
        "o.csv",
        "external_id;customer_external_id;ordered_at;sku;quantity\n"
        "O1;POS-1001;01.02.2024;ZB-HELM-01;1\nO1;POS-1001;01.02.2024;NOPE;1\n",
    )
    # when
    result = import_file(kind="orders", path=path, mode=GOOD)
    # then
    assert result.failed == 2 and not Order.objects.exists()


def test_orders_in_other_currencies_are_refused(shop, tmp_path) -> None:
    path = write(
        tmp_path,
        "o.csv",
        "external_id,customer_external_id,ordered_at,sku,quantity,currency\nO1,POS-1001,2024-02-01,ZB-HELM-01,1,USD\n",
    )
    result = import_file(kind="orders", path=path, mode=GOOD)
    assert result.errors[0]["message"] == "nur EUR wird unterstützt"


def test_an_order_spanning_batches_keeps_all_its_lines_together(shop, tmp_path) -> None:
    # given three orders of two lines each and a batch size of three rows
    rows = "".join(
        f"O{i},POS-1001,2024-02-0{i},ZB-HELM-01,1\nO{i},POS-1001,2024-02-0{i},ZB-SCHLOSS-02,1\n"
        for i in range(1, 4)
    )
    path = write(
        tmp_path, "o.csv", "external_id,customer_external_id,ordered_at,sku,quantity\n" + rows
    )
    # when
    result = import_file(kind="orders", path=path, batch_size=3)
    # then
    assert result.created == 6
    assert all(o.lines.count() == 2 for o in Order.objects.all())


def test_returns_never_exceed_what_was_bought(shop) -> None:
    # given
    import_file(kind="orders", path=EXAMPLES / "bestellungen_excel.csv")
    path = EXAMPLES.parent.parent / "tests" / "dataio" / "_tmp_returns.jsonl"
    path.write_text(
        '{"external_id": "R1", "order_external_id": "B-2024-0004", "sku": "ZB-HELM-01", '
        '"quantity": 2, "returned_at": "2024-08-01"}\n'
        '{"external_id": "R2", "order_external_id": "B-2024-0004", "sku": "ZB-HELM-01", '
        '"quantity": 1, "returned_at": "2024-08-02"}\n'
    )
    try:
        # when
        result = import_file(kind="returns", path=path, mode=GOOD)
    finally:
        path.unlink()
    # then
    assert result.created == 1
    assert result.errors[0]["line"] == 2
    assert result.errors[0]["message"] == (
        "von diesem Produkt können nur noch 0 zurückgegeben werden"
    )


def test_a_file_without_the_required_columns_is_refused_as_a_whole(db, tmp_path) -> None:
    with pytest.raises(FileError, match="keine Spalte für die Pflichtfelder"):
        import_file(kind="orders", path=write(tmp_path, "x.csv", "a,b\n1,2\n"))


def test_an_unknown_file_type_is_refused(db, tmp_path) -> None:
    with pytest.raises(FileError, match="unbekannter Dateityp „.pdf“"):
        import_file(kind="orders", path=write(tmp_path, "x.pdf", "%PDF"))


def test_a_mapping_saved_for_a_source_is_used_for_the_next_file(db, tmp_path) -> None:
    # given a first file with odd headers and a mapping saved to the source "Kasse"
    path = write(tmp_path, "k.csv", "Nr;Zuname\nK-1;Schmidt\n")
    first = import_job_create(
        actor=None,
        kind="customers",
        file_name="k.csv",
        path=str(path),
        source_name="Kasse",
        mapping={"external_id": "Nr", "last_name": "Zuname"},
    )
    import_job_run(job_id=first.pk)
    # when the next file comes without a mapping
    path2 = write(tmp_path, "k2.csv", "Nr;Zuname\nK-2;Schulz\n")
    second = import_job_create(
        actor=None, kind="customers", file_name="k2.csv", path=str(path2), source_name="Kasse"
    )
    job = import_job_run(job_id=second.pk)
    # then
    assert ImportSource.objects.get(name="Kasse").mapping == {
        "external_id": "Nr",
        "last_name": "Zuname",
    }
    assert job.status == ImportJob.Status.DONE and job.rows_created == 1
    assert Customer.objects.filter(external_id="K-2", last_name="Schulz").exists()


def test_windows_1252_with_semicolons_and_quoted_newlines_is_read(db, tmp_path) -> None:
    content = 'Kunden-ID;Nachname;Straße\r\nW1;Müller;"Weg 1\r\nHof"\r\nW2;Weiß;Gasse 2\r\n'.encode(
        "cp1252"
    )
    result = import_file(kind="customers", path=write(tmp_path, "w.csv", content))
    assert result.created == 2
    assert Customer.objects.get(external_id="W2").last_name == "Weiß"
    assert Customer.objects.get(external_id="W1").addresses.get().street == "Weg 1\r\nHof"


def test_the_job_records_counts_and_errors(shop) -> None:
    job = import_job_create(
        actor=None,
        kind="orders",
        file_name="bestellungen_fehlerhaft.csv",
        path=str(EXAMPLES / "bestellungen_fehlerhaft.csv"),
        mode=GOOD,
    )
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.rows_read, job.rows_created, job.rows_failed) == ("done", 8, 2, 6)
    assert job.progress == 1.0 and job.report_path


def test_two_orders_with_the_same_number_in_one_file_fail_the_second(shop, tmp_path) -> None:
    path = write(
        tmp_path,
        "o.csv",
        "external_id,number,customer_external_id,ordered_at,sku,quantity\n"
        "O1,N-1,POS-1001,2024-02-01,ZB-HELM-01,1\nO2,N-1,POS-1002,2024-02-02,ZB-HELM-01,1\n",
    )
    result = import_file(kind="orders", path=path, mode=GOOD)
    assert (result.created, result.failed) == (1, 1)
    assert "gehört zu einer anderen Bestellung" in result.errors[0]["message"]
