"""An import file past ``IMPORT_MAX_MB`` is refused by the form, the CLI and the API alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from stammkunde.dataio.models import ImportJob

from .conftest import write

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
STAMMKUNDE = Path(sys.executable).with_name("stammkunde")


def _big_csv(size: int) -> bytes:
    rows = "".join(f"K{i};Name {i}\n" for i in range(size // 12))
    return ("external_id;last_name\n" + rows).encode()[:size]


def test_the_upload_form_refuses_a_file_past_the_limit_in_german(
    settings, make_user, client
) -> None:
    # given
    settings.IMPORT_MAX_MB = 1
    client.force_login(make_user("team_lead"))
    upload = SimpleUploadedFile("kunden.csv", _big_csv(MB + MB // 2))
    # when
    response = client.post(
        "/dataio/",
        {"file": upload, "kind": "customers", "mode": "good-rows"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "Die Datei ist 1,5 MB groß, größer als die Grenze von 1 MB für Importe."
    ]
    assert not ImportJob.objects.exists()


def test_the_upload_form_takes_a_file_within_the_limit(
    settings, make_user, client, django_capture_on_commit_callbacks
) -> None:
    # given
    settings.IMPORT_MAX_MB = 1
    client.force_login(make_user("team_lead"))
    upload = SimpleUploadedFile("kunden.csv", _big_csv(MB - 100))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/dataio/", {"file": upload, "kind": "customers", "mode": "good-rows"}
        )
    # then
    assert response.status_code == 302
    assert ImportJob.objects.get().status == ImportJob.Status.DONE


def test_the_cli_refuses_a_file_past_the_limit(settings, tmp_path) -> None:
    # given
    settings.IMPORT_MAX_MB = 1
    path = write(tmp_path, "kunden.csv", _big_csv(2 * MB))
    # when / then
    with pytest.raises(CommandError, match=r"kunden.csv: .*(Grenze|limit) von 1 MB"):
        call_command("import", "customers", str(path))
    assert not ImportJob.objects.exists()


def test_the_stammkunde_command_exits_non_zero_with_the_message(tmp_path) -> None:
    # given: the limit from the environment, as an operator sets it
    path = write(tmp_path, "kunden.csv", _big_csv(2 * MB))
    # An empty database of its own: the command must stop before it writes anything.
    database = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    env = {**os.environ, "STAMMKUNDE_IMPORT_MAX_MB": "1", "DATABASE_URL": database}
    # when
    done = subprocess.run(
        [str(STAMMKUNDE), "import", "customers", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then
    assert done.returncode != 0
    assert "kunden.csv: Die Datei ist 2,0 MB groß" in done.stderr, done.stderr
    assert "Grenze von 1 MB" in done.stderr


def test_an_api_body_past_djangos_limit_is_a_400_with_a_field_error(
    settings, api_as, agent
) -> None:
    # given
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = MB // 2
    lines = [{"sku": "A" * 60, "quantity": 1}] * 8000
    body = {
        "external_id": "X",
        "customer_external_id": "Y",
        "ordered_at": "2024-10-01T10:00:00+02:00",
        "lines": lines,
    }
    # when
    response = api_as(agent).post(
        "/api/ingest/orders/", json.dumps(body), content_type="application/json"
    )
    # then
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["field_errors"]["body"] == [
        "Der Inhalt der Anfrage ist größer als die Grenze von 0,5 MB."
    ]


def test_every_api_route_answers_a_body_past_the_limit_with_a_field_error(
    settings, api_as, admin
) -> None:
    # given any API route (here: creating a customer), not only the ingest API
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = MB // 2
    body = {"last_name": "Groß", "notes": "x" * MB}
    # when
    response = api_as(admin).post(
        "/api/customers/", json.dumps(body), content_type="application/json"
    )
    # then
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["field_errors"]["body"] == [
        "Der Inhalt der Anfrage ist größer als die Grenze von 0,5 MB."
    ]
