"""The CLV CLI core fits CSV files and explains bad input with file, line and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from stammkunde.analytics.models.cli_fit import (
    InputError,
    clv_fit_from_summary,
    clv_fit_from_transactions,
)

from .conftest import CDNOW_CALIBRATION_END


def test_summary_file_gives_the_paper_parameters(
    tmp_path: Path, cdnow_summary_with_spend: pd.DataFrame
):
    # given
    path = tmp_path / "summary.csv"
    cdnow_summary_with_spend.to_csv(path, index=False)
    # when
    result = clv_fit_from_summary(path)
    # then
    assert result["r"] == pytest.approx(0.243, rel=0.01)
    assert result["log_likelihood"] == pytest.approx(-9582.4, abs=0.5)
    assert result["p"] == pytest.approx(6.25, rel=0.01)
    assert set(result) == {"r", "alpha", "a", "b", "log_likelihood", "p", "q", "v"}


def test_transactions_file_with_calibration_end_fits_the_calibration_period(
    tmp_path: Path, cdnow_sample_transactions: pd.DataFrame
):
    # given
    path = tmp_path / "tx.csv"
    cdnow_sample_transactions.to_csv(path, index=False)
    # when
    result = clv_fit_from_transactions(
        path, customer_col="customer_id", date_col="date", calibration_end=CDNOW_CALIBRATION_END
    )
    # then: daily units, so alpha is 7 times the weekly paper value
    assert result["r"] == pytest.approx(0.243, rel=0.01)
    assert result["alpha"] / 7 == pytest.approx(4.414, rel=0.01)
    assert "p" not in result


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("frequency,recency\n1,2\n", r"missing column\(s\) T"),
        ("frequency,recency,T\n1,2,3\nx,2,3\n", r"line 3, column 'frequency': 'x' is not a number"),
        ("frequency,recency,T\n1,-2,3\n", r"line 2, column 'recency': value must not be negative"),
        (
            "frequency,recency,T\n1,2,3\n1,5,4\n",
            r"line 3, column 'recency': recency is greater than T",
        ),
        ("frequency,recency,T\n1.5,2,3\n", r"line 2, column 'frequency': .*whole number"),
    ],
)
def test_bad_summary_files_are_reported_with_line_and_column(
    tmp_path: Path, text: str, message: str
):
    with pytest.raises(InputError, match=message):
        clv_fit_from_summary(_write(tmp_path, text))


def test_bad_dates_are_reported_with_line_and_column(tmp_path: Path):
    path = _write(tmp_path, "cust,day\na,2024-01-01\nb,yesterday\n")
    with pytest.raises(
        InputError, match=r"in.csv, line 3, column 'day': 'yesterday' is not a date"
    ):
        clv_fit_from_transactions(path, customer_col="cust", date_col="day")


def test_missing_file_is_an_input_error(tmp_path: Path):
    with pytest.raises(InputError, match="file not found"):
        clv_fit_from_summary(tmp_path / "nope.csv")


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)
