"""The `staffing erlang` use case: one interval, answered as a JSON-ready dict.

Kept free of Django so that planners' scripts, the management command and the
API all call the same function and print the same numbers.
"""

from __future__ import annotations

import math
from typing import Any

from stammkunde.workforce.erlang import (
    StaffingInputError,
    erlang_c,
    offered_load,
    required_agents,
    scheduled_agents,
    validate_max_occupancy,
    validate_shrinkage,
    validate_target_sl,
)

UNSTABLE_MESSAGE = (
    "unstable: {agents} agents for {traffic:.4g} Erlangs — with agents ≤ traffic the queue "
    "grows without limit; no finite waiting time exists"
)


def _finite_or_none(value: float) -> float | None:
    # JSON has no Infinity; null says "no finite value" without breaking parsers.
    return value if math.isfinite(value) else None


def erlang_command(
    *,
    calls: float,
    interval_s: float,
    aht_s: float,
    target_answer_s: float,
    target_sl: float,
    shrinkage: float = 0.0,
    max_occupancy: float | None = None,
    agents: int | None = None,
) -> dict[str, Any]:
    """Staff one interval with Erlang C, or evaluate a given number of agents.

    Without ``agents`` the smallest agent count meeting the service level
    (and the occupancy cap, if given) is searched; with ``agents`` that
    staffing is evaluated as is, so a planner can see what 12 agents would
    deliver.  ``scheduled_agents`` adds shrinkage on top of the agents on the
    phones.  When agents ≤ traffic the result carries ``"stable": False`` and
    a ``message``, and ``asa_s`` is ``None`` instead of a negative wait.
    """
    if float(calls) <= 0:
        raise StaffingInputError("calls", "must be greater than zero")
    if float(target_answer_s) < 0:
        raise StaffingInputError("target_answer_s", "must not be negative")
    validate_target_sl(target_sl)
    validate_shrinkage(shrinkage)
    validate_max_occupancy(max_occupancy)
    if agents is not None and (int(agents) != agents or agents < 0):
        raise StaffingInputError("agents", "must be a whole number ≥ 0")
    traffic = float(offered_load(calls=calls, aht_s=aht_s, interval_s=interval_s))
    if agents is None:
        raw = int(
            required_agents(
                traffic=traffic,
                aht_s=aht_s,
                target_answer_s=target_answer_s,
                target_sl=target_sl,
                max_occupancy=max_occupancy,
            )
        )
    else:
        raw = int(agents)
    metrics = erlang_c(agents=raw, traffic=traffic, aht_s=aht_s, target_answer_s=target_answer_s)
    result: dict[str, Any] = {
        "traffic_erlangs": traffic,
        "raw_agents": raw,
        "scheduled_agents": int(scheduled_agents(raw, shrinkage)),
        "service_level": float(metrics.service_level),
        "p_wait": float(metrics.p_wait),
        "asa_s": _finite_or_none(float(metrics.asa_s)),
        "occupancy": float(metrics.occupancy),
    }
    if not bool(metrics.stable):
        result["stable"] = False
        result["message"] = UNSTABLE_MESSAGE.format(agents=raw, traffic=traffic)
    return result
