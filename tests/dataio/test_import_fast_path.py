"""The fast path of the order import: set-based foreign-key checks, pipelined batches."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction

from stammkunde.commerce.models import Order, OrderLine, Product
from stammkunde.core import db
from stammkunde.customers.models import Customer
from stammkunde.dataio.models import ImportJob
from stammkunde.dataio.services.imports import import_file

from .conftest import write

pytestmark = pytest.mark.django_db
GOOD = ImportJob.Mode.GOOD_ROWS
HEADER = "external_id;customer_external_id;ordered_at;sku;quantity\n"
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's foreign-key triggers"
)


def _replication_role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return str(cursor.fetchone()[0])


def test_unknown_customer_and_product_are_row_errors_with_their_lines(shop, tmp_path) -> None:
    # given a file whose second order names an unknown customer, the third an unknown SKU
    path = write(
        tmp_path,
        "o.csv",
        HEADER + "O1;POS-1001;01.02.2024;ZB-HELM-01;1\n"
        "O2;NIEMAND;01.02.2024;ZB-HELM-01;1\n"
        "O3;POS-1002;01.02.2024;GIBTS-NICHT;1\n",
    )
    # when
    result = import_file(kind="orders", path=path, mode=GOOD)
    # then
    assert [e["text"] for e in result.errors] == [
        "o.csv, Zeile 3, Spalte „customer_external_id“: unbekannter Kunde",
        "o.csv, Zeile 4, Spalte „sku“: unbekanntes Produkt „GIBTS-NICHT“",
    ]
    assert list(Order.objects.values_list("external_id", flat=True)) == ["O1"]


def test_an_order_seen_again_in_a_later_batch_counts_as_stored(shop, tmp_path) -> None:
    # given O1 again after O2 in the next batch, which is read before the first is written
    path = write(
        tmp_path,
        "o.csv",
        HEADER + "O1;POS-1001;01.02.2024;ZB-HELM-01;1\n"
        "O2;POS-1001;02.02.2024;ZB-HELM-01;1\n"
        "O1;POS-1001;01.02.2024;ZB-HELM-01;1\n",
    )
    # when
    result = import_file(kind="orders", path=path, mode=GOOD, batch_size=2)
    # then
    assert (result.created, result.unchanged, result.failed) == (2, 1, 0)
    assert OrderLine.objects.filter(order__external_id="O1").count() == 1


def test_an_order_number_of_the_previous_batch_is_taken(shop, tmp_path) -> None:
    # given two orders with the same number in consecutive batches
    path = write(
        tmp_path,
        "o.csv",
        "external_id;number;customer_external_id;ordered_at;sku;quantity\n"
        "O1;N-1;POS-1001;01.02.2024;ZB-HELM-01;1\n"
        "O2;N-1;POS-1001;02.02.2024;ZB-HELM-01;1\n",
    )
    # when
    result = import_file(kind="orders", path=path, mode=GOOD, batch_size=1)
    # then
    assert (result.created, result.failed) == (1, 1)
    assert result.errors[0]["line"] == 3
    assert "gehört zu einer anderen Bestellung" in result.errors[0]["message"]


def test_a_batch_after_a_refused_batch_is_checked_again(shop, tmp_path, monkeypatch) -> None:
    # given the database refuses the first batch (O1); O1 comes again in the second batch
    from stammkunde.dataio.importers import OrderImporter
    from stammkunde.dataio.importers import orders as order_importer

    original = order_importer.orders_bulk_create
    calls = {"n": 0}

    def refuse_first(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise IntegrityError("refused")
        return original(*args, **kwargs)

    monkeypatch.setattr(order_importer, "orders_bulk_create", refuse_first)
    path = write(
        tmp_path,
        "o.csv",
        HEADER + "O1;POS-1001;01.02.2024;ZB-HELM-01;1\nO1;POS-1001;01.02.2024;ZB-HELM-01;1\n",
    )
    # when (the two rows are not consecutive for the batching: batch size 1, no group)
    monkeypatch.setattr(OrderImporter, "group_by", None)
    result = import_file(kind="orders", path=path, mode=GOOD, batch_size=1)
    # then the second batch creates O1 with its line instead of counting it as stored
    assert (result.created, result.unchanged, result.failed) == (1, 0, 1)
    assert OrderLine.objects.filter(order__external_id="O1").count() == 1


@postgres_only
def test_referenced_rows_are_locked_and_a_missing_one_is_refused(shop) -> None:
    # given
    product = Product.objects.get(sku="ZB-HELM-01")
    # when / then
    db.references_lock(Product, [product.pk])
    with pytest.raises(IntegrityError, match="do not exist"):
        db.references_lock(Product, [product.pk, 10**9])


@postgres_only
def test_replica_mode_ends_with_the_block_and_with_an_error() -> None:
    # given
    assert _replication_role() == "origin"
    # when the block ends normally
    with db.foreign_keys_checked_per_batch(True, {}):
        inside = _replication_role()
    # then
    assert (inside, _replication_role()) == ("replica", "origin")
    # when the block fails, inside a caller's transaction that goes on
    with transaction.atomic():
        with pytest.raises(IntegrityError), db.foreign_keys_checked_per_batch(True, {}):
            raise IntegrityError("boom")
        # then
        assert _replication_role() == "origin"


@postgres_only
def test_a_user_trigger_on_a_written_table_keeps_the_per_row_checks() -> None:
    # given
    assert db.set_based_checks_allowed([Order, Customer])
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION _noop() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER _audit AFTER INSERT ON commerce_order "
            "FOR EACH ROW EXECUTE FUNCTION _noop()"
        )
    # when / then
    assert not db.set_based_checks_allowed([Order, Customer])


@postgres_only
def test_the_fast_path_writes_no_orphans_and_the_triggers_run_again_afterwards(
    shop, tmp_path
) -> None:
    # given
    path = write(tmp_path, "o.csv", HEADER + "O1;POS-1001;01.02.2024;ZB-HELM-01;2\n")
    # when
    result = import_file(kind="orders", path=path, mode=GOOD)
    # then every reference resolves and the session enforces foreign keys again
    assert result.created == 1
    line = OrderLine.objects.select_related("order__customer", "product").get()
    assert (line.order.customer.external_id, line.product.sku) == ("POS-1001", "ZB-HELM-01")
    assert _replication_role() == "origin"
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO commerce_orderline (order_id, product_id, quantity, unit_price, "
            "line_total) VALUES (%s, %s, 1, 1, 1)",
            [line.order_id, 10**9],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_check_beside_the_writes_must_not_use_the_database(shop, tmp_path, monkeypatch) -> None:
    # given a check that would query (outside the import's transaction, from its thread)
    from stammkunde.dataio.importers import OrderImporter

    original = OrderImporter.check

    def querying_check(self, *args):  # type: ignore[no-untyped-def]
        Customer.objects.count()
        return original(self, *args)

    monkeypatch.setattr(OrderImporter, "check", querying_check)
    path = write(tmp_path, "o.csv", HEADER + "O1;POS-1001;01.02.2024;ZB-HELM-01;1\n")
    # when / then
    with pytest.raises(RuntimeError, match="must not use the database"):
        import_file(kind="orders", path=path, mode=GOOD)
    assert not Order.objects.exists()


def test_first_purchase_is_set_at_the_end_and_mended_by_running_the_file_again(
    shop, tmp_path
) -> None:
    # given two orders of one customer in two batches, the later one first in the file
    path = write(
        tmp_path,
        "o.csv",
        HEADER + "O1;POS-1001;03.02.2024;ZB-HELM-01;1\nO2;POS-1001;01.02.2024;ZB-HELM-01;1\n",
    )
    # when
    import_file(kind="orders", path=path, mode=GOOD, batch_size=1)
    # then the earliest order wins
    customer = Customer.objects.get(external_id="POS-1001")
    assert customer.first_purchase_at == Order.objects.get(external_id="O2").ordered_at
    # when an import broke off before its end (the date was never set) and runs again
    Customer.objects.filter(pk=customer.pk).update(first_purchase_at=None)
    result = import_file(kind="orders", path=path, mode=GOOD)
    # then nothing is written twice and the date is mended
    assert (result.created, result.unchanged) == (0, 2)
    customer.refresh_from_db()
    assert customer.first_purchase_at == Order.objects.get(external_id="O2").ordered_at


@postgres_only
def test_an_order_stored_meanwhile_refuses_its_batch_with_a_report_and_the_rest_goes_on(
    shop, tmp_path, monkeypatch
) -> None:
    # given another writer stores O2 after its batch was checked, before it is written
    # (here on the import's own connection, so it rolls back with the refused batch)
    from stammkunde.dataio.importers import OrderImporter

    original = OrderImporter.write_checked

    def api_first(self, checked, *, write):  # type: ignore[no-untyped-def]
        if any(p.key == "O2" for p in checked.new):
            Order.objects.create(
                external_id="O2",
                number="O2",
                customer=Customer.objects.get(external_id="POS-1001"),
                ordered_at="2024-02-01T00:00:00Z",
                total=0,
            )
        return original(self, checked, write=write)

    monkeypatch.setattr(OrderImporter, "write_checked", api_first)
    path = write(
        tmp_path,
        "o.csv",
        HEADER + "O1;POS-1001;01.02.2024;ZB-HELM-01;1\nO2;POS-1001;01.02.2024;ZB-HELM-01;1\n"
        "O3;POS-1001;01.02.2024;ZB-HELM-01;1\n",
    )
    # when
    result = import_file(kind="orders", path=path, mode=GOOD, batch_size=1)
    # then O2's line is in the error report, the batches around it are stored
    assert (result.created, result.failed) == (2, 1)
    assert result.errors[0]["line"] == 3
    assert "die Datenbank hat diesen Teil der Datei abgelehnt" in result.errors[0]["message"]
    assert "O2" in Path(result.report_path).read_text(encoding="utf-8-sig")
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["O1", "O3"]
