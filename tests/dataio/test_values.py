"""Cell parsing: amounts in German and English style, dates, and the CSV reader end to end."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stammkunde.dataio.readers import open_table
from stammkunde.dataio.values import CellError, date_value, datetime_value, decimal_value


@pytest.mark.parametrize(
    ("raw", "comma", "expected"),
    [
        ("12,50", True, "12.50"),
        ("1.234,56", True, "1234.56"),
        ("1.250", True, "1250"),
        ("12.5", True, "12.5"),
        ("1,234.56", False, "1234.56"),
        ("1,250", False, "1250"),
        ("12.50 €", False, "12.50"),
        ("-3,5", True, "-3.5"),
        (7, False, "7"),
    ],
)
def test_amounts_are_read_in_the_files_style(raw, comma, expected) -> None:
    assert decimal_value(raw, decimal_comma=comma) == Decimal(expected)


@pytest.mark.parametrize("raw", ["zwölf", "1,2,3,4.5.6", "", "--1"])
def test_text_that_is_no_amount_is_refused(raw) -> None:
    with pytest.raises(CellError):
        decimal_value(raw, decimal_comma=True)


def test_german_dates_and_times_are_berlin_local_time() -> None:
    assert datetime_value("03.06.2024 10:12") == datetime(2024, 6, 3, 8, 12, tzinfo=UTC)
    assert datetime_value("2024-06-03T10:12:00+02:00") == datetime(2024, 6, 3, 8, 12, tzinfo=UTC)
    assert date_value("03.06.24") == date(2024, 6, 3)
    assert date_value(datetime(2024, 6, 3, 23, 0)) == date(2024, 6, 3)


def test_an_impossible_date_is_refused() -> None:
    with pytest.raises(CellError, match="31.02.2024"):
        datetime_value("31.02.2024")


amounts = st.decimals(min_value=0, max_value=Decimal("9999999.99"), places=2, allow_nan=False)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31))


def _german(amount: Decimal, thousands: bool) -> str:
    text = f"{amount:,.2f}" if thousands else f"{amount:.2f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(amounts, days, st.booleans(), st.booleans()), min_size=1, max_size=20),
    german=st.booleans(),
    encoding=st.sampled_from(["utf-8-sig", "utf-8", "cp1252"]),
)
def test_csv_reader_returns_every_amount_and_date_whatever_the_format(
    tmp_path_factory, rows, german, encoding
) -> None:
    # given a file in German Excel style (;, decimal commas, dd.mm.yyyy) or English style
    folder: Path = tmp_path_factory.mktemp("csv")
    sep = ";" if german else ","
    lines = [sep.join(["amount", "day", "note"])]
    for amount, day, thousands, long_year in rows:
        if german:
            cell = _german(amount, thousands)
            when = (
                day.strftime("%d.%m.%Y" if long_year else "%d.%m.%y")
                if day.year >= 2000 or long_year
                else day.strftime("%d.%m.%Y")
            )
        else:
            cell = f'"{amount:,.2f}"' if thousands else f"{amount:.2f}"
            when = day.isoformat()
        lines.append(sep.join([cell, when, '"Grüße;\nzweite Zeile"']))
    path = folder / "data.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    # when
    table = open_table(path)
    read = list(table.rows())
    # then
    assert len(read) == len(rows)
    for (_line, values), (amount, day, _, _) in zip(read, rows, strict=True):
        assert decimal_value(values["amount"], decimal_comma=table.decimal_comma) == amount
        assert date_value(values["day"]) == day
        assert values["note"] == "Grüße;\nzweite Zeile"
    assert [line for line, _ in read] == [2 + 2 * i for i in range(len(rows))]
