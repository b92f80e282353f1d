"""The import pages: upload, live progress, report; access for admins and team leads only."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from stammkunde.commerce.models import Order
from stammkunde.dataio.models import ImportJob

from .conftest import EXAMPLES

pytestmark = pytest.mark.django_db


def _upload(client, name: str, kind: str, **extra: str):
    content = (EXAMPLES / name).read_bytes()
    data = {"file": SimpleUploadedFile(name, content), "kind": kind, "mode": "good-rows", **extra}
    return client.post("/dataio/", data)


def test_a_team_lead_uploads_a_file_and_sees_the_report(
    make_user, client, shop, django_capture_on_commit_callbacks
) -> None:
    # given
    client.force_login(make_user("team_lead"))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, "bestellungen_fehlerhaft.csv", "orders", source="Kasse")
    # then
    job = ImportJob.objects.get(kind="orders")
    assert response.status_code == 302 and response["Location"] == f"/dataio/jobs/{job.pk}/"
    assert (job.status, job.rows_created, job.rows_failed) == ("done", 2, 6)
    page = client.get(f"/dataio/jobs/{job.pk}/")
    assert page.status_code == 200
    assert "unbekanntes Produkt „GIBTS-NICHT“" in page.content.decode()
    assert b"hx-trigger" not in page.content  # finished: polling stops
    report = client.get(f"/dataio/jobs/{job.pk}/report.csv")
    assert report.status_code == 200
    assert "GIBTS-NICHT" in b"".join(report.streaming_content).decode("utf-8-sig")
    assert Order.objects.count() == 2


def test_a_running_job_polls_its_progress_every_second(admin, client) -> None:
    job = ImportJob.objects.create(
        kind="orders", file_name="x.csv", file_path="/nope", mode="good-rows"
    )
    client.force_login(admin)
    page = client.get(f"/dataio/jobs/{job.pk}/")
    assert b'hx-trigger="every 1s"' in page.content
    partial = client.get(f"/dataio/jobs/{job.pk}/", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"job-status" in partial.content


def test_a_dry_run_from_the_page_writes_nothing(
    admin, client, shop, django_capture_on_commit_callbacks
) -> None:
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, "bestellungen_excel.csv", "orders", dry_run="on")
    job = ImportJob.objects.get(kind="orders")
    assert job.dry_run and job.rows_created == 6
    assert not Order.objects.exists()


def test_a_bad_mapping_is_reported_on_the_form(admin, client) -> None:
    client.force_login(admin)
    response = _upload(client, "kunden.xlsx", "customers", mapping="{not json")
    assert response.status_code == 200 and "Kein gültiges JSON" in response.content.decode()


@pytest.mark.parametrize("who", ["agent", "partner_agent", "no_role_user"])
def test_users_without_the_role_get_403_or_404(who, request, admin, client) -> None:
    job = ImportJob.objects.create(
        kind="orders",
        file_name="x.csv",
        file_path="/nope",
        mode="good-rows",
        created_by=admin,
        report_path="/nope",
    )
    client.force_login(request.getfixturevalue(who))
    for url in [
        "/dataio/",
        f"/dataio/jobs/{job.pk}/",
        f"/dataio/jobs/{job.pk}/report.csv",
        "/dataio/duplicates/",
    ]:
        assert client.get(url).status_code in (403, 404), url
    assert ImportJob.objects.count() == 1


def test_an_unknown_job_is_404_for_an_admin(admin, client) -> None:
    client.force_login(admin)
    assert client.get("/dataio/jobs/999999/").status_code == 404


def test_the_navigation_shows_import_export_to_team_leads_only(make_user, agent, client) -> None:
    client.force_login(make_user("team_lead"))
    assert b"/dataio/" in client.get("/customers/").content
    client.force_login(agent)
    assert b'href="/dataio/"' not in client.get("/customers/").content
