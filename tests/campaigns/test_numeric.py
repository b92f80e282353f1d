"""The Django-free numeric core: evaluation, uplift/Qini and next-best-action arbitration."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from stammkunde.campaigns.numeric.arbitration import NO_ACTION, arbitrate, eligibility_mask
from stammkunde.campaigns.numeric.evaluation import (
    CONTINUE,
    STOP,
    TOO_EARLY,
    CampaignEvaluator,
    cumulative_effect,
    difference_of_proportions,
    welch_difference,
)
from stammkunde.campaigns.numeric.simulate import planted_campaign
from stammkunde.campaigns.numeric.uplift import (
    TLearnerUplift,
    auuc,
    qini_coefficient,
    qini_curve,
)

SEEDS = [0, 1, 2, 3]


# ----------------------------------------------------------------- evaluation


def test_welch_difference_matches_scipy_welch_test() -> None:
    # given
    rng = np.random.default_rng(5)
    a, b = rng.gamma(2, 30, 400), rng.gamma(2, 25, 60)
    # when
    effect = welch_difference(a, b)
    # then
    reference = stats.ttest_ind(a, b, equal_var=False)
    ci = reference.confidence_interval(0.95)
    assert effect.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert (effect.ci_low, effect.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_difference_of_proportions_has_the_wald_interval() -> None:
    # given 30 % of 1000 against 20 % of 500
    treated = np.r_[np.ones(300), np.zeros(700)]
    control = np.r_[np.ones(100), np.zeros(400)]
    # when
    effect = difference_of_proportions(treated, control)
    # then
    se = np.sqrt(0.3 * 0.7 / 1000 + 0.2 * 0.8 / 500)
    assert effect.estimate == pytest.approx(0.1)
    assert effect.ci_high - effect.estimate == pytest.approx(1.959964 * se, rel=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_evaluation_recovers_the_planted_average_effect_within_its_interval(seed: int) -> None:
    # given an effect of 15 points only in 30 % of customers: 4.5 points on average
    sim = planted_campaign(20_000, seed=seed)
    # when
    ev = CampaignEvaluator().fit(
        sim.treated,
        {"response": sim.response, "revenue": sim.revenue, "margin": sim.margin},
        cost=1000.0,
    )
    # then
    response = ev.effects_["response"]
    assert response.ci_low <= sim.true_average_effect <= response.ci_high
    assert response.estimate == pytest.approx(sim.true_average_effect, abs=0.02)
    margin = ev.effects_["margin"]
    assert margin.ci_low <= sim.true_average_margin_effect <= margin.ci_high


def test_interval_coverage_is_close_to_95_percent() -> None:
    # given 200 independent campaigns
    hits = 0
    for seed in range(200):
        sim = planted_campaign(4000, seed=1000 + seed)
        e = difference_of_proportions(sim.response[sim.treated], sim.response[~sim.treated])
        hits += e.ci_low <= sim.true_average_effect <= e.ci_high
    # then (binomial 95 % band around 190 of 200 is about 184..196)
    assert 180 <= hits <= 199


def test_roi_is_incremental_margin_minus_cost_over_cost() -> None:
    # given
    sim = planted_campaign(20_000, seed=3)
    # when
    ev = CampaignEvaluator().fit(sim.treated, {"margin": sim.margin}, cost=2000.0)
    # then
    assert ev.roi_ == pytest.approx((ev.incremental_margin_ - 2000.0) / 2000.0)
    assert ev.roi_ci_[0] <= ev.roi_ <= ev.roi_ci_[1]


def test_recommendation_is_continue_stop_or_too_early() -> None:
    sim = planted_campaign(40_000, seed=4)
    outcomes = {"margin": sim.margin}
    # a cheap campaign with a clear margin effect goes on
    assert CampaignEvaluator().fit(sim.treated, outcomes, cost=100.0).recommendation_ == CONTINUE
    # an expensive one stops
    assert CampaignEvaluator().fit(sim.treated, outcomes, cost=10**6).recommendation_ == STOP
    # tiny groups are too early whatever they show
    small = planted_campaign(200, seed=4)
    ev = CampaignEvaluator(min_group_size=30).fit(small.treated, {"margin": small.margin}, cost=1)
    assert ev.recommendation_ == TOO_EARLY


def test_evaluator_follows_the_parameter_contract() -> None:
    ev = CampaignEvaluator(alpha=0.1, min_group_size=5)
    assert not hasattr(ev, "effects_")
    sim = planted_campaign(1000, seed=0)
    assert ev.fit(sim.treated, {"margin": sim.margin}, cost=10.0) is ev
    assert json.dumps(ev.summary())


def test_cumulative_effect_grows_to_the_total_difference() -> None:
    # given orders on days 0..29 after the contact
    sim = planted_campaign(5000, seed=2)
    rng = np.random.default_rng(2)
    buyers = np.flatnonzero(sim.response)
    day = rng.integers(0, 30, buyers.size)
    # when
    curve = cumulative_effect(sim.treated, day, sim.revenue[buyers], buyers, horizon_days=30)
    # then
    total = welch_difference(sim.revenue[sim.treated], sim.revenue[~sim.treated])
    assert curve["effect"][-1] == pytest.approx(total.estimate)
    assert curve["treatment"][0] <= curve["treatment"][-1]


# ---------------------------------------------------------------------- uplift


@pytest.mark.parametrize("seed", SEEDS)
def test_uplift_model_ranks_the_planted_subgroup_first(seed: int) -> None:
    # given a campaign whose effect exists only in the subgroup (30 % of customers)
    train = planted_campaign(20_000, seed=seed, control_share=0.5)
    test = planted_campaign(20_000, seed=seed + 100, control_share=0.5)
    # when
    model = TLearnerUplift().fit(train.X, train.treated, train.response)
    predicted = model.predict(test.X)
    # then: the top 30 % by predicted uplift is almost all subgroup
    top = np.argsort(-predicted)[: int(0.3 * test.X.shape[0])]
    assert test.subgroup[top].mean() > 0.9
    assert predicted[test.subgroup].mean() == pytest.approx(0.15, abs=0.04)
    # and its Qini is as good as knowing the true uplift, far above random targeting
    # (random: 0 +- 0.012 over 50 seeds; the oracle reaches about 0.14 on this noise)
    qini = qini_coefficient(test.response, test.treated, predicted)
    oracle = qini_coefficient(test.response, test.treated, test.true_uplift + test.X[:, 1] * 1e-9)
    noise = np.random.default_rng(seed).random(test.X.shape[0])
    assert qini > 0.1
    assert qini >= 0.85 * oracle
    assert abs(qini_coefficient(test.response, test.treated, noise)) < 0.05
    assert auuc(test.response, test.treated, predicted) > auuc(test.response, test.treated, noise)


def test_qini_is_one_for_the_perfect_ordering_and_the_curve_ends_at_the_total() -> None:
    # given
    sim = planted_campaign(3000, seed=9, control_share=0.5)
    y, t = sim.response, sim.treated
    perfect = y * t - y * ~t
    # when
    x, q = qini_curve(y, t, perfect)
    # then
    assert qini_coefficient(y, t, perfect) == pytest.approx(1.0)
    total = y[t].sum() - y[~t].sum() * t.sum() / (~t).sum()
    assert (x[-1], q[-1]) == (3000, pytest.approx(total))


def test_constant_score_gives_the_random_line() -> None:
    sim = planted_campaign(2000, seed=1, control_share=0.5)
    x, q = qini_curve(sim.response, sim.treated, np.zeros(2000))
    assert x.tolist() == [0, 2000]
    assert qini_coefficient(sim.response, sim.treated, np.zeros(2000)) == pytest.approx(0.0)


def test_uplift_model_round_trips_through_json_and_needs_fit() -> None:
    # given
    sim = planted_campaign(4000, seed=1, control_share=0.5)
    model = TLearnerUplift(C=0.5)
    with pytest.raises(ValueError, match="not fitted"):
        model.predict(sim.X)
    # when
    assert model.fit(sim.X, sim.treated, sim.response) is model
    again = TLearnerUplift.from_params(json.loads(model.to_json()))
    # then
    assert np.allclose(again.predict(sim.X), model.predict(sim.X))
    assert again.get_params() == {"C": 0.5, "max_iter": 1000}


def test_uplift_model_refuses_an_arm_without_responders() -> None:
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="control group needs responders"):
        TLearnerUplift().fit(X, np.r_[np.ones(5), np.zeros(5)], np.r_[1, 0, 1, 0, 1, 0, 0, 0, 0, 0])


# ----------------------------------------------------------------- arbitration


def test_arbitration_picks_the_best_eligible_action_per_customer() -> None:
    # given 3 customers x 3 campaigns
    uplift = np.array([[0.10, 0.05, 0.20], [0.10, 0.05, 0.20], [0.01, 0.01, 0.01]])
    value = np.array([100.0, 100.0, 100.0])
    cost = np.array([1.0, 1.0, 5.0])
    eligible = np.array([[1, 1, 1], [1, 1, 0], [1, 1, 1]], dtype=bool)
    # when
    result = arbitrate(uplift, value, cost, eligible, chunk_size=2)
    # then: 0.2*100-5=15 beats 9; without campaign 2, campaign 0 wins; 0.01*100-1=0 -> none
    assert result.action.tolist() == [2, 0, NO_ACTION]
    assert result.score[:2].tolist() == pytest.approx([15.0, 9.0])
    assert np.isnan(result.score[2])
    assert result.counts(3).tolist() == [1, 0, 1]


def test_arbitration_equals_a_plain_python_loop() -> None:
    # given
    rng = np.random.default_rng(0)
    n, k = 500, 7
    uplift = rng.random((n, k)) * 0.1
    value = rng.gamma(2, 50, n)
    cost = rng.random(k) * 3
    eligible = rng.random((n, k)) < 0.6
    # when
    result = arbitrate(uplift, value, cost, eligible, chunk_size=64)
    # then
    for i in range(n):
        scores = [
            uplift[i, j] * value[i] - cost[j] if eligible[i, j] else -np.inf for j in range(k)
        ]
        best = int(np.argmax(scores))
        expected = best if scores[best] > 0 else NO_ACTION
        assert result.action[i] == expected


def test_eligibility_masks_consent_caps_quiet_periods_and_complaints() -> None:
    # given campaign 0 = email advertising, campaign 1 = phone service call
    mask = eligibility_mask(
        in_audience=np.ones((5, 2), dtype=bool),
        channel_consent=np.array([[1, 1], [0, 1], [1, 1], [1, 1], [1, 1]], dtype=bool),
        campaign_channel=np.array([0, 1]),
        contacts_in_window=np.array([0, 0, 2, 0, 0]),
        contact_cap=2,
        quiet=np.array([0, 0, 0, 1, 0], dtype=bool),
        suppressed=np.array([0, 0, 0, 0, 1], dtype=bool),
        advertising=np.array([True, False]),
    )
    # then
    assert mask.tolist() == [
        [True, True],  # all fine
        [False, True],  # no email consent
        [False, False],  # contact cap reached
        [False, False],  # quiet period
        [False, True],  # open complaint: no advertising, the service call stays
    ]


def test_numeric_core_imports_without_django() -> None:
    code = (
        "import sys; import stammkunde.campaigns.numeric.evaluation, "
        "stammkunde.campaigns.numeric.uplift, stammkunde.campaigns.numeric.arbitration; "
        "assert 'django' not in sys.modules, 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
