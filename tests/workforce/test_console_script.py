"""The `stammkunde` console script as a planner runs it: real process, JSON out, exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

STAMMKUNDE = Path(sys.executable).parent / "stammkunde"
PUBLISHED = [
    "--calls",
    "100",
    "--interval-s",
    "1800",
    "--aht-s",
    "180",
    "--target-answer-s",
    "20",
    "--target-sl",
    "0.8",
]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(STAMMKUNDE), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_console_script_prints_the_published_example_as_json():
    # given / when
    done = run("staffing", "erlang", *PUBLISHED, "--shrinkage", "0.3")
    # then
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["raw_agents"] == 14
    assert result["scheduled_agents"] == 20
    assert abs(result["service_level"] - 0.88835) < 5e-6
    assert abs(result["p_wait"] - 0.17413) < 5e-6
    assert abs(result["asa_s"] - 7.84) < 5e-3


def test_console_script_rejects_a_service_level_outside_zero_one_with_a_message():
    # given / when
    done = run(
        "staffing",
        "erlang",
        "--calls",
        "100",
        "--interval-s",
        "1800",
        "--aht-s",
        "180",
        "--target-answer-s",
        "20",
        "--target-sl",
        "1.5",
    )
    # then
    assert done.returncode != 0
    assert "target_sl" in done.stderr
    assert done.stdout.strip() == ""


def test_console_script_rejects_an_interval_that_does_not_divide_the_day():
    # given / when
    done = run(
        "staffing",
        "erlang",
        "--calls",
        "100",
        "--interval-s",
        "420",
        "--aht-s",
        "180",
        "--target-answer-s",
        "20",
        "--target-sl",
        "0.8",
    )
    # then
    assert done.returncode != 0
    assert "interval_s" in done.stderr


def test_console_script_rejects_zero_calls_and_negative_aht():
    # given / when
    zero = run(
        "staffing",
        "erlang",
        "--calls",
        "0",
        "--interval-s",
        "1800",
        "--aht-s",
        "180",
        "--target-answer-s",
        "20",
        "--target-sl",
        "0.8",
    )
    negative = run(
        "staffing",
        "erlang",
        "--calls",
        "10",
        "--interval-s",
        "1800",
        "--aht-s",
        "-5",
        "--target-answer-s",
        "20",
        "--target-sl",
        "0.8",
    )
    # then
    assert zero.returncode != 0 and "calls" in zero.stderr
    assert negative.returncode != 0 and "aht_s" in negative.stderr
