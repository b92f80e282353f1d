"""``stammkunde import``: progress, summary, non-zero exit on bad files."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from stammkunde.commerce.models import Order
from stammkunde.customers.models import Customer
from stammkunde.dataio.models import ImportJob

from .conftest import EXAMPLES, write

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_cli_imports_the_examples_and_prints_a_summary(db) -> None:
    _run("products", str(EXAMPLES / "produkte_excel.csv"))
    out = _run("customers", str(EXAMPLES / "kunden.xlsx"), "--source", "POS")
    assert "kunden.xlsx: 5 Zeilen gelesen; 5 angelegt" in out
    _run("orders", str(EXAMPLES / "bestellungen_excel.csv"))
    assert Order.objects.count() == 4
    assert ImportJob.objects.count() == 3


def test_bad_rows_exit_non_zero_and_the_report_is_written(db, tmp_path) -> None:
    _run("products", str(EXAMPLES / "produkte_excel.csv"))
    _run("customers", str(EXAMPLES / "kunden.xlsx"))
    report = tmp_path / "bad.csv"
    with pytest.raises(CommandError, match="6 Zeilen fehlerhaft"):
        _run(
            "orders",
            str(EXAMPLES / "bestellungen_fehlerhaft.csv"),
            "--mode",
            "good-rows",
            "--report",
            str(report),
        )
    assert "GIBTS-NICHT" in report.read_text(encoding="utf-8-sig")
    assert Order.objects.count() == 2


def test_a_file_without_required_columns_fails_with_a_clear_message(db, tmp_path) -> None:
    path = write(tmp_path, "x.csv", "a;b\n1;2\n")
    with pytest.raises(CommandError, match="keine Spalte für die Pflichtfelder"):
        _run("orders", str(path))
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED


def test_a_missing_file_or_bad_mapping_is_refused(db, tmp_path) -> None:
    with pytest.raises(CommandError, match="Datei nicht gefunden"):
        _run("orders", str(tmp_path / "none.csv"))
    with pytest.raises(CommandError, match="--mapping ist kein JSON"):
        _run("customers", str(EXAMPLES / "kunden.xlsx"), "--mapping", "{x")


def test_dry_run_and_mapping_from_the_cli(db, tmp_path) -> None:
    path = write(tmp_path, "k.csv", "Nr;Zuname\nK-1;Schmidt\n")
    out = _run(
        "customers",
        str(path),
        "--mapping",
        '{"external_id": "Nr", "last_name": "Zuname"}',
        "--dry-run",
    )
    assert "1 Zeile gelesen; 1 anzulegen" in out and not Customer.objects.exists()
