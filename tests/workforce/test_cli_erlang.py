"""The `staffing erlang` use case and its management command."""

from __future__ import annotations

import json
from io import StringIO

import pytest

from stammkunde.workforce.cli_erlang import erlang_command
from stammkunde.workforce.erlang import StaffingInputError

PUBLISHED = {
    "calls": 100,
    "interval_s": 1800,
    "aht_s": 180,
    "target_answer_s": 20,
    "target_sl": 0.8,
}
KEYS = {
    "traffic_erlangs",
    "raw_agents",
    "scheduled_agents",
    "service_level",
    "p_wait",
    "asa_s",
    "occupancy",
}


def test_erlang_command_answers_the_published_example_with_exactly_the_documented_keys():
    # given / when
    result = erlang_command(**PUBLISHED, shrinkage=0.3)
    # then
    assert set(result) == KEYS
    assert result["traffic_erlangs"] == pytest.approx(10.0)
    assert result["raw_agents"] == 14
    assert result["scheduled_agents"] == 20
    assert result["service_level"] == pytest.approx(0.88835, abs=5e-6)
    assert result["p_wait"] == pytest.approx(0.17413, abs=5e-6)
    assert result["asa_s"] == pytest.approx(7.84, abs=5e-3)
    json.dumps(result, allow_nan=False)


def test_erlang_command_with_agents_evaluates_that_staffing():
    # given / when
    result = erlang_command(**PUBLISHED, agents=12)
    # then
    assert result["raw_agents"] == 12
    assert result["service_level"] < 0.8


def test_erlang_command_with_too_few_agents_says_unstable_and_gives_no_wait():
    # given / when
    result = erlang_command(**PUBLISHED, agents=10)
    # then
    assert result["stable"] is False
    assert "unstable" in result["message"]
    assert result["asa_s"] is None
    json.dumps(result, allow_nan=False)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"calls": 0}, "calls"),
        ({"aht_s": -5}, "aht_s"),
        ({"target_sl": 1.2}, "target_sl"),
        ({"interval_s": 1000}, "interval_s"),
        ({"shrinkage": 1.0}, "shrinkage"),
    ],
)
def test_erlang_command_rejects_bad_input(override, field):
    # given
    arguments = {**PUBLISHED, **override}
    # when
    with pytest.raises(StaffingInputError) as caught:
        erlang_command(**arguments)
    # then
    assert caught.value.field == field


def _run_management_command(*args: str) -> tuple[str, str]:
    pytest.importorskip("django")
    from django.conf import settings

    if not settings.configured:
        settings.configure()
    import django

    django.setup()
    from django.core.management import call_command

    from stammkunde.workforce.management.commands.staffing import Command

    out, err = StringIO(), StringIO()
    call_command(Command(), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_management_command_prints_the_json_result():
    # given / when
    out, _ = _run_management_command(
        "erlang",
        "--calls=100",
        "--interval-s=1800",
        "--aht-s=180",
        "--target-answer-s=20",
        "--target-sl=0.8",
        "--shrinkage=0.3",
    )
    # then
    result = json.loads(out)
    assert result["raw_agents"] == 14
    assert result["scheduled_agents"] == 20


def test_management_command_turns_bad_input_into_a_command_error():
    # given
    from django.core.management import CommandError

    # when / then
    with pytest.raises(CommandError, match="target_sl"):
        _run_management_command(
            "erlang",
            "--calls=100",
            "--interval-s=1800",
            "--aht-s=180",
            "--target-answer-s=20",
            "--target-sl=80",
        )
