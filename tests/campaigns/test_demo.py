"""The demo shop's past win-back campaign: the evaluation recovers the planted effect.

Only customers with earlier returns react to the campaign (planted in
``campaigns/demo.py``); the evaluation must find the average effect within
its confidence interval, and the uplift model must rank those customers first.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from django.core.management import call_command

from stammkunde.campaigns import services
from stammkunde.campaigns.demo import campaigns_demo_generate
from stammkunde.campaigns.models import Campaign, CampaignContact
from stammkunde.campaigns.numeric.uplift import TLearnerUplift
from stammkunde.demo.generator import demo_generate

pytestmark = pytest.mark.django_db
END = datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)


@pytest.fixture
def demo_campaign() -> tuple[Campaign, object]:
    demo_generate(customers=6000, seed=3, end=END, chunk_size=6000)
    result = campaigns_demo_generate(seed=3, end=END)
    return Campaign.objects.get(pk=result.campaign_id), result


def test_evaluation_recovers_the_planted_win_back_effect(demo_campaign) -> None:
    # given
    campaign, planted = demo_campaign
    assert planted.treatment > 1000 and planted.control > 200
    # when
    evaluation = services.campaign_evaluate(campaign=campaign, as_of=END.date())
    # then the planted average effect lies inside the 95 % intervals
    response = evaluation.summary["effects"]["response"]
    revenue = evaluation.summary["effects"]["revenue"]
    assert response["ci_low"] <= planted.planted_response_effect <= response["ci_high"]
    assert revenue["ci_low"] <= planted.planted_revenue_effect <= revenue["ci_high"]
    assert response["ci_low"] > 0  # and the effect is clearly there
    assert evaluation.is_final
    assert evaluation.roi == pytest.approx(
        (evaluation.summary["incremental_margin"] - evaluation.summary["cost"])
        / evaluation.summary["cost"]
    )


def test_uplift_model_ranks_customers_with_returns_first(demo_campaign) -> None:
    # given
    campaign, _ = demo_campaign
    # when
    evaluation = services.campaign_evaluate(campaign=campaign, as_of=END.date())
    campaign.refresh_from_db()
    # then out-of-fold Qini is clearly above random (0) ...
    uplift = evaluation.summary["uplift"]
    assert evaluation.qini > 0.1
    assert uplift["auuc"] > uplift["auuc_random"]
    # ... and the stored model gives customers with returns the higher uplift
    model = TLearnerUplift.from_params(campaign.uplift_model)
    typical = np.array([[0.0, np.log1p(200), np.log1p(2), np.log1p(300)]])
    with_returns = typical.copy()
    with_returns[0, 0] = 1.0
    assert model.predict(with_returns)[0] > model.predict(typical)[0] + 0.1


def test_cli_evaluates_campaigns_after_their_horizon(demo_campaign, capsys) -> None:
    # given
    campaign, _ = demo_campaign
    # when
    call_command("campaigns", "evaluate", "--as-of", END.date().isoformat())
    # then
    evaluation = campaign.evaluations.get()
    assert evaluation.is_final
    assert "1 campaign(s)" in capsys.readouterr().out
    # and a second run leaves it alone
    call_command("campaigns", "evaluate", "--as-of", END.date().isoformat())
    assert campaign.evaluations.count() == 1


def test_demo_campaign_is_generated_once(demo_campaign) -> None:
    campaign, planted = demo_campaign
    again = campaigns_demo_generate(seed=3, end=END)
    assert again.campaign_id is None
    assert CampaignContact.objects.filter(campaign=campaign).count() == (
        planted.treatment + planted.control
    )
