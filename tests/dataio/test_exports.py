"""Exports: the user's filters through visible_to, formula injection neutralised, audited."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from stammkunde.core.models import AuditEntry
from stammkunde.customers.services import customer_create
from stammkunde.dataio.exports_format import neutralise
from stammkunde.dataio.models import ExportJob
from stammkunde.dataio.services import exports
from stammkunde.dataio.services.exports import export_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "dangerous", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_cells_that_start_a_formula_are_neutralised(dangerous) -> None:
    assert neutralise(dangerous) == "'" + dangerous
    assert neutralise("Müller") == "Müller"
    assert neutralise(-5) == -5


def _download(client, job: ExportJob) -> bytes:
    response = client.get(f"/dataio/exports/{job.pk}/download/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_a_customer_export_neutralises_formulas_in_csv_and_xlsx(agent, client) -> None:
    # given a customer whose name is a formula
    customer_create(
        actor=None, first_name="=cmd|' /C calc'!A0", last_name="@Evil", emails=["e@example.de"]
    )
    client.force_login(agent)
    # when
    csv_job = export_create(actor=agent, kind="customers", file_format="csv", filters={})
    xlsx_job = export_create(actor=agent, kind="customers", file_format="xlsx", filters={})
    # then
    rows = list(csv.DictReader(io.StringIO(_download(client, csv_job).decode("utf-8-sig"))))
    assert rows[0]["first_name"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["last_name"] == "'@Evil"
    sheet = load_workbook(io.BytesIO(_download(client, xlsx_job))).active
    values = [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert "'=cmd|' /C calc'!A0" in values and "'@Evil" in values


def test_the_export_uses_the_filters_and_is_audited(agent) -> None:
    customer_create(actor=None, last_name="Albers")
    customer_create(actor=None, last_name="Zander")
    job = export_create(
        actor=agent, kind="customers", file_format="csv", filters={"q": "alb", "junk": "x"}
    )
    with open(job.file_path, encoding="utf-8-sig") as handle:
        names = [r["last_name"] for r in csv.DictReader(handle)]
    assert names == ["Albers"]
    entry = AuditEntry.objects.get(action="export", object_type="dataio.ExportJob")
    assert entry.changes == {
        "list": "customers",
        "filters": {"q": "alb"},
        "rows": 1,
        "format": "csv",
    }


def test_a_partner_agent_exports_no_customer_it_may_not_see(partner_agent) -> None:
    customer_create(actor=None, last_name="Geheim")
    job = export_create(actor=partner_agent, kind="customers", file_format="csv", filters={})
    with open(job.file_path, encoding="utf-8-sig") as handle:
        assert "Geheim" not in handle.read()


def test_users_without_rights_get_403_for_lists_they_may_not_read(
    partner_agent, no_role_user, client
) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        export_create(actor=partner_agent, kind="orders", file_format="csv", filters={})
    client.force_login(no_role_user)
    assert client.get("/dataio/exports/").status_code == 403


def test_someone_elses_export_file_is_not_found(agent, make_user, client) -> None:
    customer_create(actor=None, last_name="Albers")
    job = export_create(actor=agent, kind="customers", file_format="csv", filters={})
    client.force_login(make_user("agent"))
    assert client.get(f"/dataio/exports/{job.pk}/download/").status_code == 404


def test_a_large_export_runs_as_a_job(
    agent, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    monkeypatch.setattr(exports, "INLINE_LIMIT", 1)
    customer_create(actor=None, last_name="A")
    customer_create(actor=None, last_name="B")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = export_create(actor=agent, kind="customers", file_format="xlsx", filters={})
    assert job.status == ExportJob.Status.PENDING and len(callbacks) == 1
    callbacks[0]()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE and job.rows == 2


def test_orders_export_filters_by_date(shop, agent) -> None:
    from stammkunde.dataio.services.imports import import_file

    from .conftest import EXAMPLES

    import_file(kind="orders", path=EXAMPLES / "bestellungen_excel.csv")
    job = export_create(
        actor=agent,
        kind="orders",
        file_format="csv",
        filters={"date_from": "01.07.2024", "date_to": "2024-07-31"},
    )
    with open(job.file_path, encoding="utf-8-sig") as handle:
        numbers = sorted(r["number"] for r in csv.DictReader(handle))
    assert numbers == ["B-2024-0003", "B-2024-0004"]


def test_the_export_page_downloads_a_small_list_at_once(agent, client) -> None:
    customer_create(actor=None, last_name="Albers")
    client.force_login(agent)
    response = client.post("/dataio/exports/", {"kind": "customers", "file_format": "csv"})
    assert response.status_code == 302 and "/download/" in response["Location"]
