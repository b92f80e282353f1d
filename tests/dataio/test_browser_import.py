"""In a real browser, as a new team lead would: import a broken file, merge, export."""

from __future__ import annotations

import pytest

from stammkunde.core.services import user_create
from stammkunde.dataio.models import ImportJob
from stammkunde.dataio.services.imports import import_file

from .conftest import EXAMPLES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_team_lead_imports_a_broken_file_merges_a_duplicate_and_exports(
    browser, live_server, insecure_cookies
) -> None:
    # given
    user_create(username="tina", password="pw-Stammkunde-1", roles=["team_lead"])
    for kind, name in [("products", "produkte_excel.csv"), ("customers", "kunden.xlsx")]:
        import_file(kind=kind, path=EXAMPLES / name, mode=ImportJob.Mode.GOOD_ROWS)
    page = browser.new_page(locale="en-GB")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "tina")
    page.fill("input[name=password]", "pw-Stammkunde-1")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")  # the start page
    page.click("button[data-lang=en]")
    # when: upload the file with broken rows, good rows only
    page.click("nav >> text=Import/Export")
    page.set_input_files("input[name=file]", str(EXAMPLES / "bestellungen_fehlerhaft.csv"))
    page.select_option("select[name=kind]", "orders")
    page.select_option("select[name=mode]", "good-rows")
    page.click("main button[type=submit]")
    # then: the job page with counts, errors and the report link
    page.wait_for_selector("[data-status=done]")
    text = page.inner_text("#job-status")
    assert "unknown product “GIBTS-NICHT”" in text
    assert "Download the bad rows (CSV)" in text
    with page.expect_download() as download:
        page.click("text=Download the bad rows (CSV)")
    assert download.value.suggested_filename == "bestellungen_fehlerhaft-bad-rows.csv"
    # when: search duplicates and merge the first pair
    page.click("text=Duplicates")
    page.click("main button[type=submit]")
    page.click("text=Compare and merge")
    page.click("text=Merge now")
    page.wait_for_selector("text=was merged into")
    # when: export the customers as CSV
    page.goto(f"{live_server.url}/dataio/exports/")
    page.select_option("select[name=file_format]", "csv")
    with page.expect_download() as export:
        page.click("main form button[type=submit]")
    assert export.value.suggested_filename.startswith("customers-")
    page.close()
