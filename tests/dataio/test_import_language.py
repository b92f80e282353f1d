"""An import speaks the language it was started in, also in its worker threads."""

from __future__ import annotations

import csv

import pytest
from django.utils import translation

from stammkunde.dataio.services.import_jobs import import_job_create, import_job_run

from .conftest import write

pytestmark = pytest.mark.django_db

PRODUCT = '"sku": "{sku}", "name": "Tasse", "category": "Geschirr"'
DEEP = ', "x": ' + "[" * 39 + "]" * 39  # twice the limit of 20 levels
VERY_DEEP = ', "x": ' + "[" * 100_000 + "]" * 100_000  # Python's own limit: RecursionError

EXPECTED = {
    "en": {
        "amount": "waren.jsonl, line 1, column “price”: “zwölf” is not an amount",
        "number": "waren.jsonl, line 2, column “price”: “NaN” is not a number",
        "deep": "Nested too deeply: at most 20 levels.",
        "summary": "waren.jsonl: 5 rows read; 1 were created",
        "report": ["data", "line", "column", "error"],
    },
    "de": {
        "amount": "waren.jsonl, Zeile 1, Spalte „price“: „zwölf“ ist kein Betrag",
        "number": "waren.jsonl, Zeile 2, Spalte „price“: „NaN“ ist keine Zahl",
        "deep": "Zu tief verschachtelt: höchstens 20 Ebenen.",
        "summary": "waren.jsonl: 5 Zeilen gelesen; 1 angelegt",
        "report": ["Daten", "Zeile", "Spalte", "Fehler"],
    },
}


@pytest.mark.parametrize(("language", "worker_language"), [("de", "en"), ("en", "de")])
def test_row_errors_are_in_the_language_the_import_was_started_in(
    tmp_path, settings, language, worker_language
) -> None:
    # given: a bad amount, a bad number, a line too deep for the limit and one too deep
    # for Python; the job is created in one language and run by a worker in the other
    settings.INPUT_MAX_JSON_DEPTH = 20
    lines = [
        "{" + PRODUCT.format(sku="A-1") + ', "price": "zwölf"}',
        "{" + PRODUCT.format(sku="A-2") + ', "price": NaN}',
        "{" + PRODUCT.format(sku="A-3") + ', "price": "1,50"' + DEEP + "}",
        "{" + PRODUCT.format(sku="A-4") + ', "price": "1,50"' + VERY_DEEP + "}",
        "{" + PRODUCT.format(sku="A-5") + ', "price": "2.50"}',
    ]
    path = write(tmp_path, "waren.jsonl", "\n".join(lines) + "\n")
    with translation.override(language):
        job = import_job_create(
            actor=None,
            kind="products",
            file_name="waren.jsonl",
            path=str(path),
            mode="good-rows",
        )
    # when
    with translation.override(worker_language):
        job = import_job_run(job_id=job.pk)
    # then
    expected = EXPECTED[language]
    assert job.language == language
    assert job.rows_failed == 4, job.errors
    texts = [e["text"] for e in job.errors]
    assert texts[:2] == [expected["amount"], expected["number"]]
    assert [e["line"] for e in job.errors[2:]] == [3, 4]
    assert [e["message"] for e in job.errors[2:]] == [expected["deep"], expected["deep"]]
    assert job.message.startswith(expected["summary"]), job.message
    with open(job.report_path, encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle, delimiter=";")) == expected["report"]
