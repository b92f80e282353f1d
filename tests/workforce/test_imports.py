"""CSV imports of contact volumes and rosters: all rows or none, errors with line numbers."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from stammkunde.core.errors import ApplicationError
from stammkunde.workforce.models import ContactVolume, RosterEntry
from stammkunde.workforce.services import contact_volumes_import, roster_import

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")

GOOD = """queue,channel,interval_start,interval_minutes,contacts,handled_seconds
Telefon,phone,2026-03-02T08:00,15,12,2880
Telefon,phone,2026-03-02T08:15,15,15,3600
E-Mail,email,2026-03-02T08:00:00+01:00,30,4,1200
"""


def test_volume_import_stores_every_row_in_local_time():
    # given / when
    result = contact_volumes_import(actor=None, content=GOOD)
    # then
    assert result.rows == 3
    first = ContactVolume.objects.get(queue="Telefon", contacts=12)
    assert first.interval_start == datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN)
    assert first.handled_seconds == 2880


def test_volume_import_with_bad_rows_reports_line_numbers_and_stores_nothing():
    # given: one good row stored before, a file with one good and three bad rows
    contact_volumes_import(actor=None, content=GOOD)
    bad = """queue,channel,interval_start,contacts,handled_seconds
Telefon,phone,2026-03-03T08:00,10,100
Telefon,fax,2026-03-03T08:15,10,100
Telefon,phone,2026-03-03T08:07,10,100
Telefon,phone,2026-03-03T08:30,-4,100
"""
    # when
    with pytest.raises(ApplicationError) as caught:
        contact_volumes_import(actor=None, content=bad)
    # then
    errors = caught.value.field_errors
    assert set(errors) == {"line 3", "line 4", "line 5"}
    assert "channel" in errors["line 3"][0]
    assert "15-minute" in errors["line 4"][0]
    assert "negative" in errors["line 5"][0]
    assert ContactVolume.objects.count() == 3  # only the earlier file
    assert not ContactVolume.objects.filter(interval_start__date=date(2026, 3, 3)).exists()


def test_volume_import_rejects_duplicate_rows_unknown_partners_and_missing_columns():
    # given
    duplicate = (
        "queue,channel,interval_start,contacts\nA,phone,2026-03-02T08:00,1\n"
        "A,phone,2026-03-02T08:00,2\n"
    )
    unknown = "queue,channel,interval_start,contacts,partner\nA,phone,2026-03-02T08:00,1,Nobody\n"
    missing = "queue,interval_start,contacts\nA,2026-03-02T08:00,1\n"
    # when / then
    with pytest.raises(ApplicationError, match="duplicates line 2"):
        contact_volumes_import(actor=None, content=duplicate)
    with pytest.raises(ApplicationError, match="unknown service partner"):
        contact_volumes_import(actor=None, content=unknown)
    with pytest.raises(ApplicationError, match="missing column"):
        contact_volumes_import(actor=None, content=missing)
    assert not ContactVolume.objects.exists()


def test_reimporting_a_corrected_file_replaces_the_rows_instead_of_doubling_them():
    # given
    contact_volumes_import(actor=None, content=GOOD)
    # when
    result = contact_volumes_import(actor=None, content=GOOD.replace(",12,2880", ",20,4800"))
    # then
    assert result.replaced == 3
    assert ContactVolume.objects.count() == 3
    assert ContactVolume.objects.filter(contacts=20).exists()


def test_semicolon_separated_files_from_german_spreadsheets_are_read():
    # given
    content = "queue;channel;interval_start;contacts\r\nTelefon;phone;2026-03-02 09:00;7\r\n"
    # when
    contact_volumes_import(actor=None, content=content.encode("utf-8-sig"))
    # then
    assert ContactVolume.objects.get().contacts == 7


def test_roster_import_stores_entries_and_reports_bad_lines():
    # given
    good = "queue,date,interval_start,agents,interval_minutes\nTelefon,2026-03-02,08:00,12,60\n"
    bad = (
        "queue,date,interval_start,agents\nTelefon,2026-03-02,08:00,12\n"
        "Telefon,02.03.2026,09:00,3\nTelefon,2026-03-02,09:10,x\n"
    )
    # when
    roster_import(actor=None, content=good)
    with pytest.raises(ApplicationError) as caught:
        roster_import(actor=None, content=bad)
    # then
    assert set(caught.value.field_errors) == {"line 3", "line 4"}
    entry = RosterEntry.objects.get()
    assert (entry.interval_start, entry.interval_minutes, entry.agents) == (time(8), 60, 12)


def test_import_command_prints_line_errors_and_fails(tmp_path):
    # given
    path = tmp_path / "volumes.csv"
    path.write_text("queue,channel,interval_start,contacts\nTelefon,phone,not a date,3\n")
    # when / then
    with pytest.raises(CommandError, match="line 2: interval_start"):
        call_command("workforce", "import-volumes", str(path))
    assert not ContactVolume.objects.exists()


def test_import_command_loads_a_good_file(tmp_path, capsys):
    # given
    path = tmp_path / "volumes.csv"
    path.write_text(GOOD)
    # when
    call_command("workforce", "import-volumes", str(path))
    # then
    assert "3 rows imported" in capsys.readouterr().out
    assert ContactVolume.objects.count() == 3


def test_agent_without_rights_cannot_import(agent):
    # given / when / then
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        contact_volumes_import(actor=agent, content=GOOD)
