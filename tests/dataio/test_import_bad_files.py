"""Files that are not what they claim: encodings, binary data, broken quotes, NUL bytes.

Every one ends with a clear message (file, line) and a job marked failed, never
"running" and never an internal error; run on PostgreSQL too (NUL bytes).
"""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from stammkunde.customers.models import Customer
from stammkunde.dataio.models import ImportJob
from stammkunde.dataio.readers import FileError, detect_encoding
from stammkunde.dataio.services.import_jobs import import_job_create, import_job_run
from stammkunde.dataio.services.imports import import_file

from .conftest import write

pytestmark = pytest.mark.django_db

CUSTOMERS = "external_id;last_name;city\nK1;Müller;Köln\nK2;Weiß;Düsseldorf\nK3;Bäcker;Fürth\n"


def _job(tmp_path, name: str, content: bytes, mode: str = "all-or-nothing") -> ImportJob:
    path = write(tmp_path, name, content)
    job = import_job_create(actor=None, kind="customers", file_name=name, path=str(path), mode=mode)
    return import_job_run(job_id=job.pk)


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-8", "cp1252", "latin-1"]
)
def test_the_encoding_is_detected_and_umlauts_survive(tmp_path, encoding) -> None:
    # given / when
    job = _job(tmp_path, "kunden.csv", CUSTOMERS.encode(encoding))
    # then
    assert job.status == ImportJob.Status.DONE, job.message
    assert sorted(Customer.objects.values_list("last_name", flat=True)) == [
        "Bäcker",
        "Müller",
        "Weiß",
    ]


def test_windows_1252_is_preferred_for_a_euro_sign(tmp_path) -> None:
    # given
    path = write(tmp_path, "x.csv", "a;b\n1;Preis 5 € inkl.\n".encode("cp1252"))
    # when / then
    assert detect_encoding(path) == "cp1252"


def test_utf16_json_lines_are_read(tmp_path) -> None:
    # given
    content = '{"external_id": "K1", "last_name": "Müller"}\n'.encode("utf-16")
    # when
    job = _job(tmp_path, "kunden.jsonl", content)
    # then
    assert job.status == ImportJob.Status.DONE, job.message
    assert Customer.objects.get().last_name == "Müller"


@pytest.mark.parametrize("name", ["bild.csv", "bild.jsonl"])
def test_a_binary_file_is_refused_and_the_job_fails_with_the_reason(tmp_path, name) -> None:
    # given
    content = b"\x89PNG\r\n\x1a\n" + os.urandom(4000)
    # when
    job = _job(tmp_path, name, content)
    # then
    assert job.status == ImportJob.Status.FAILED
    assert "keine Textdatei" in job.message
    assert job.finished_at is not None


def test_an_unclosed_quote_names_the_line_its_record_starts_on(tmp_path) -> None:
    # given: line 3 opens a quote that never closes; lines 4 and 5 must not vanish in it
    content = 'external_id;last_name;city\nK1;A;X\nK2;"Weiß;Y\nK3;C;Z\nK4;D;W\n'
    # when
    job = _job(tmp_path, "kunden.csv", content.encode(), mode="good-rows")
    # then
    assert job.status == ImportJob.Status.FAILED
    assert "kunden.csv, Zeile 3" in job.message
    assert "Anführungszeichen" in job.message


def test_text_after_a_closing_quote_is_reported_not_glued(tmp_path) -> None:
    # given
    with pytest.raises(FileError, match="k.csv, Zeile 2"):
        result = import_file(
            kind="customers",
            path=write(tmp_path, "k.csv", 'external_id;last_name\nK1;"A" B\nK2;C\n'),
        )
        del result


def test_a_nul_byte_in_the_first_kilobytes_is_a_binary_file(tmp_path) -> None:
    # given / when
    job = _job(tmp_path, "kunden.csv", b"external_id;last_name\nK1;M\x00ller\n")
    # then
    assert job.status == ImportJob.Status.FAILED and "keine Textdatei" in job.message


def test_a_nul_byte_in_a_cell_further_on_is_a_row_error_not_a_database_error(tmp_path) -> None:
    # given: past the sample the encoding is detected from
    rows = "".join(f"K{i};Name {i}\n" for i in range(6000)).encode()
    content = b"external_id;last_name\n" + rows + b"KX;M\x00ller\n"
    # when
    job = _job(tmp_path, "kunden.csv", content, mode="good-rows")
    # then
    assert job.status == ImportJob.Status.DONE, job.message
    assert job.rows_failed == 1
    assert job.errors[0]["line"] == 6002
    assert "Steuerzeichen" in job.errors[0]["message"]
    assert Customer.objects.count() == 6000


def test_deeply_nested_json_is_a_row_error(tmp_path) -> None:
    # given
    deep = '{"external_id": "K9", "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    content = (deep + '{"external_id": "K1", "last_name": "A"}\n').encode()
    # when
    job = _job(tmp_path, "kunden.jsonl", content, mode="good-rows")
    # then
    assert job.status == ImportJob.Status.DONE, job.message
    # the same text as for the depth limit
    assert job.rows_failed == 1
    assert job.errors[0]["message"].startswith("Zu tief verschachtelt: höchstens")
    assert Customer.objects.get().external_id == "K1"


def test_json_nested_deeper_than_the_limit_is_refused_and_nothing_is_written(
    tmp_path, settings
) -> None:
    # given: line 2 is nested 40 levels deep, twice the limit
    settings.INPUT_MAX_JSON_DEPTH = 20
    deep = '{"external_id": "K9", "last_name": "B", "x": ' + "[" * 39 + "]" * 39 + "}\n"
    content = ('{"external_id": "K1", "last_name": "A"}\n' + deep).encode()
    # when
    job = _job(tmp_path, "kunden.jsonl", content)
    # then
    assert job.status == ImportJob.Status.ROLLED_BACK, job.message
    assert job.finished_at is not None
    assert job.rows_failed == 1
    error = job.errors[0]
    assert error["line"] == 2
    assert error["message"] == "Zu tief verschachtelt: höchstens 20 Ebenen."
    assert error["text"] == "kunden.jsonl, Zeile 2: Zu tief verschachtelt: höchstens 20 Ebenen."
    assert not Customer.objects.exists()


def test_a_failure_message_quoting_the_file_is_stored_and_the_job_is_not_left_running(
    tmp_path,
) -> None:
    # given: a header full of NULs that names no known column
    content = b"a\x00b;c\n1;2\n" * 3 + "ü".encode("utf-16-le")
    path = write(tmp_path, "x.csv", content)
    job = import_job_create(actor=None, kind="customers", file_name="x.csv", path=str(path))
    # when
    job = import_job_run(job_id=job.pk)
    # then
    assert job.status == ImportJob.Status.FAILED
    assert "\x00" not in job.message


def test_the_upload_page_shows_the_failed_job_with_its_reason(
    admin, client, django_capture_on_commit_callbacks
) -> None:
    # given: an upload in English
    client.force_login(admin)
    upload = SimpleUploadedFile("bild.csv", b"\x89PNG\r\n\x1a\n" + os.urandom(4000))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/dataio/",
            {"file": upload, "kind": "customers", "mode": "good-rows"},
            headers={"accept-language": "en"},
        )
    # then
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.status == ImportJob.Status.FAILED
    page = client.get(f"/dataio/jobs/{job.pk}/", headers={"accept-language": "en"})
    assert "not a text file" in page.content.decode()


def test_the_cli_prints_the_reason_and_exits_non_zero(tmp_path) -> None:
    # given
    path = write(tmp_path, "bild.csv", b"\x89PNG\r\n\x1a\n" + os.urandom(4000))
    # when / then
    with pytest.raises(CommandError, match="keine Textdatei"):
        call_command("import", "customers", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED
