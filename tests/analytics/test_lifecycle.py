"""Lifecycle phases follow configurable thresholds in a fixed order of precedence."""

from __future__ import annotations

import pandas as pd

from stammkunde.analytics.models.lifecycle import (
    LifecycleThresholds,
    lifecycle_phase,
    phase_transitions,
)


def test_each_phase_is_reached_by_its_signal():
    # given tenure (days), P(alive) and churn risk for five customers
    tenure = [400, 30, 400, 400, 400]
    p_alive = [0.95, 0.9, 0.05, 0.9, 0.9]
    risk = [0.1, 0.1, 0.1, 0.8, 0.5]
    # when
    phases = lifecycle_phase(tenure, p_alive, risk)
    # then
    assert list(phases) == ["established", "new", "lost", "churning", "churn_prone"]


def test_lost_wins_over_new():
    assert lifecycle_phase([10], [0.01], [0.0])[0] == "lost"


def test_thresholds_are_configurable():
    # given a shop with a yearly buying rhythm
    thresholds = LifecycleThresholds(new_tenure_days=365)
    # when
    phase = lifecycle_phase([200], [0.9], [0.1], thresholds=thresholds)
    # then
    assert phase[0] == "new"


def test_missing_churn_risk_leaves_the_decision_to_p_alive():
    assert lifecycle_phase([400], [0.5], [float("nan")])[0] == "churn_prone"


def test_transitions_list_only_changed_and_first_seen_customers():
    # given
    previous = pd.Series({"a": "new", "b": "established"})
    current = pd.Series({"a": "established", "b": "established", "c": "new"})
    # when
    changes = phase_transitions(previous, current)
    # then
    assert changes.to_dict("index") == {
        "a": {"from_phase": "new", "to_phase": "established"},
        "c": {"from_phase": None, "to_phase": "new"},
    }
