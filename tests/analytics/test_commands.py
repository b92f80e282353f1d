"""The analytics commands: `stammkunde clv fit` and `stammkunde analytics score`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from stammkunde.analytics.orm import CustomerScore
from stammkunde.demo.generator import demo_generate

SUMMARY = (
    "frequency,recency,T,monetary_value\n"
    + "\n".join(
        f"{f},{r},{t},{m}"
        for f, r, t, m in [
            (2, 30.4, 38.9, 22.35),
            (1, 1.7, 38.9, 11.77),
            (0, 0, 38.9, 0),
            (0, 0, 38.9, 0),
            (0, 0, 38.9, 0),
            (7, 29.4, 38.9, 73.74),
            (1, 5, 38.9, 11.77),
            (0, 0, 38.9, 0),
            (2, 35.7, 38.9, 25.55),
            (0, 0, 38.9, 0),
            (5, 24.1, 38.7, 33.8),
            (0, 0, 38.7, 0),
            (3, 20, 38.7, 40.0),
            (1, 30, 38.7, 15.0),
        ]
    )
    + "\n"
)


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_clv_fit_on_a_summary_prints_bgnbd_and_gamma_gamma_parameters_as_json(
    tmp_path: Path,
) -> None:
    # given
    path = tmp_path / "summary.csv"
    path.write_text(SUMMARY)
    # when
    result = json.loads(_run("clv", "fit", "--summary", str(path)))
    # then
    assert {"r", "alpha", "a", "b", "log_likelihood", "p", "q", "v"} <= set(result)
    assert result["log_likelihood"] < 0


def test_clv_fit_on_transactions_summarises_them_first(tmp_path: Path) -> None:
    # given
    path = tmp_path / "tx.csv"
    rows = [
        f"c{i % 40},2024-{1 + (i * 7) % 12:02d}-{1 + i % 27:02d},{10 + i % 13}" for i in range(400)
    ]
    path.write_text("cust,day,amount\n" + "\n".join(rows) + "\n")
    # when
    result = json.loads(
        _run(
            "clv",
            "fit",
            "--transactions",
            str(path),
            "--customer-col",
            "cust",
            "--date-col",
            "day",
            "--amount-col",
            "amount",
            "--calibration-end",
            "2024-09-30",
        )
    )
    # then
    assert result["r"] > 0 and result["alpha"] > 0 and "p" in result


def test_clv_fit_names_the_bad_line_and_column(tmp_path: Path) -> None:
    # given
    path = tmp_path / "bad.csv"
    path.write_text("frequency,recency,T\n1,2,3\n1,zwei,3\n")
    # when / then
    with pytest.raises(CommandError, match=r"line 3, column 'recency'"):
        call_command("clv", "fit", "--summary", str(path))


def test_clv_fit_on_transactions_requires_the_column_names(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--customer-col and --date-col"):
        call_command("clv", "fit", "--transactions", str(tmp_path / "x.csv"))


def test_clv_fit_as_a_process_exits_non_zero_with_the_message_on_stderr(tmp_path: Path) -> None:
    # given
    missing = tmp_path / "missing.csv"
    bin_dir = Path(sys.executable).parent
    # when
    done = subprocess.run(
        [str(bin_dir / "stammkunde"), "clv", "fit", "--summary", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    # then
    assert done.returncode != 0
    assert "missing.csv: file not found" in done.stderr
    assert done.stdout == ""


def test_clv_fit_as_a_process_prints_json(tmp_path: Path) -> None:
    # given
    path = tmp_path / "summary.csv"
    path.write_text(SUMMARY)
    bin_dir = Path(sys.executable).parent
    # when
    done = subprocess.run(
        [str(bin_dir / "stammkunde"), "clv", "fit", "--summary", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    # then
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["a"] > 0


@pytest.mark.django_db
def test_analytics_score_command_scores_the_shop_and_reports_quality() -> None:
    # given
    demo_generate(customers=400, seed=5, end=datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC))
    # when
    out = _run("analytics", "score", "--as-of", "2026-06-30", "--chunk-size", "100")
    # then
    assert "as of 2026-06-30" in out and "churn AUC" in out
    assert CustomerScore.objects.filter(is_latest=True).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "30.06.2026"], "--as-of"),
        (["--chunk-size", "0"], "--chunk-size must be at least 1"),
        ([], "too few customers"),
    ],
)
def test_analytics_score_command_rejects_bad_input(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("analytics", "score", *args)
