"""The customer panel's figures agree with each other and with the model's inputs.

Checked on the demo shop after a real scoring run: every churn reason is an
input that pushed this customer's risk up, with the value the model saw; a
customer without repeat purchases is not shown "P(alive) 100 %" next to a high
churn risk without explanation.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import numpy as np
import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import number_format

from stammkunde.analytics import scoring, selectors
from stammkunde.analytics.models.churn import PHRASES, ChurnModel
from stammkunde.analytics.orm import CustomerScore, ModelRun
from stammkunde.analytics.services import scoring_run
from stammkunde.demo.generator import demo_generate

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 6, 30)
#: Model inputs that are also stored as score columns (feature -> column).
STORED = {
    "recency_days": "recency_days",
    "frequency": "frequency",
    "T_days": "T_days",
    "p_alive": "p_alive",
    "monetary_value": "monetary",
}


@pytest.fixture
def scored() -> ModelRun:
    demo_generate(customers=600, seed=11, end=datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC))
    return scoring_run(as_of=AS_OF)


def _inputs_and_contributions(run: ModelRun):
    """Recompute the model's inputs from the database and each input's push on the risk."""
    tx = selectors.transactions_frame(as_of=AS_OF)
    events = selectors.signal_events(as_of=AS_OF)
    X = scoring.churn_inputs(tx, events, fit=run.params)
    model = ChurnModel.from_params(run.params["churn"])
    return X, model.contributions(X), model.predict_proba(X)


def test_every_reason_is_an_input_that_raised_this_customers_risk(scored: ModelRun) -> None:
    # given the inputs as the model sees them, recomputed from the shop's data
    X, contributions, risk = _inputs_and_contributions(scored)
    scores = list(CustomerScore.objects.filter(is_latest=True).exclude(reasons=[]))
    sample = np.random.default_rng(0).choice(len(scores), size=min(150, len(scores)), replace=False)
    assert len(sample) >= 100
    for score in (scores[i] for i in sample):
        cid = score.customer_id
        # then the stored risk is this model on these inputs
        assert score.churn_risk == pytest.approx(risk[X.index.get_loc(cid)], abs=1e-9)
        pushes = contributions.loc[cid]
        known = X.loc[cid].notna()
        expected = pushes[known & (pushes > 0)].sort_values(ascending=False).index[:3].tolist()
        # the reasons are exactly the strongest inputs that pushed the risk up, strongest first
        assert [r["feature"] for r in score.reasons] == expected, cid
        for reason in score.reasons:
            feature = reason["feature"]
            assert pushes[feature] > 0
            assert reason["contribution"] == pytest.approx(pushes[feature], abs=1e-3)
            # the value shown is the model's input, and the stored column where there is one
            decimals = 0 if feature in scoring._WHOLE_FEATURES else 4
            assert reason["value"] == round(float(X.loc[cid, feature]), decimals)
            if feature in STORED:
                stored = float(getattr(score, STORED[feature]))
                assert reason["value"] == pytest.approx(stored, abs=0.01), (cid, feature)
            # and the phrase says on which side of the average the input lies
            phrase_de, _ = PHRASES[feature][reason["direction"]]
            assert reason["de"] == phrase_de


def _panel(client, make_user, score: CustomerScore) -> str:
    client.force_login(make_user("agent"))
    page = client.get(
        reverse("customers:detail", args=[score.customer_id]), HTTP_ACCEPT_LANGUAGE="de"
    )
    assert page.status_code == 200
    return html.unescape(page.content.decode())


def test_panel_shows_each_reason_with_the_input_it_stands_for(
    scored: ModelRun, make_user, client
) -> None:
    # given the riskiest customer with reasons on days since the last purchase or rhythm
    score = (
        CustomerScore.objects.filter(is_latest=True).exclude(reasons=[]).order_by("-churn_risk")
    ).first()
    # when
    page = _panel(client, make_user, score)
    # then every reason names its feature, the stored value and the value in German
    items = re.findall(r'<li data-feature="([^"]+)" data-value="([^"]+)">(.*?)</li>', page, re.S)
    assert [f for f, _, _ in items] == [r["feature"] for r in score.reasons]
    for (feature, value, text), reason in zip(items, score.reasons, strict=True):
        assert float(value) == reason["value"]
        assert reason["de"] in text
        with translation.override("de"):
            shown = selectors.reason_value_text(feature, reason["value"])
        if shown:
            assert f"({shown})" in text


def test_one_off_buyer_with_high_risk_is_not_shown_p_alive_100(
    scored: ModelRun, make_user, client
) -> None:
    # given a customer without repeat purchases: BG/NBD says P(alive) = 1 by definition
    score = (
        CustomerScore.objects.filter(is_latest=True, frequency=0).order_by("-churn_risk").first()
    )
    assert score.p_alive == pytest.approx(1.0)
    assert score.churn_risk > 0.5
    # when
    page = _panel(client, make_user, score)
    # then the panel says why P(alive) means nothing here and how the two figures differ
    assert 'data-alive="not-meaningful"' in page
    assert "keine Wiederholungskäufe: nicht aussagekräftig" in page
    assert 'data-alive="100"' not in page
    assert "BG/NBD" in page and "180 Tagen" in page


def test_repeat_buyer_is_shown_p_alive_next_to_the_churn_risk(
    scored: ModelRun, make_user, client
) -> None:
    # given
    score = CustomerScore.objects.filter(is_latest=True, frequency__gt=0).order_by("-churn_risk")[0]
    # when
    page = _panel(client, make_user, score)
    # then
    assert f'data-alive="{round(score.p_alive * 100)}"' in page
    assert f"{round(score.churn_risk * 100)} %" in page


def _figures(page: str) -> list[dict]:
    import json

    blocks = re.findall(
        r'<script id="[\w-]+-figure" type="application/json">(.*?)</script>', page, re.S
    )
    return [json.loads(body) for body in blocks]


def test_analytics_charts_have_fixed_probability_axes_and_whole_counts_in_german(
    scored: ModelRun, make_user, client
) -> None:
    # given
    client.force_login(make_user("analyst"))
    # when
    page = client.get(reverse("analytics:dashboard"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    figures = {f["layout"]["title"]["text"]: f["layout"] for f in _figures(page)}
    # then probabilities span 0..1 and customer counts are whole numbers from 0
    risk = figures["Abwanderungsrisiko (aktuelle Bewertung)"]
    assert risk["xaxis"]["range"] == [0, 1]
    assert risk["yaxis"]["tickformat"] == ",d" and risk["yaxis"]["rangemode"] == "tozero"
    reliability = figures["Verlässlichkeit (zurückgehaltene Kunden)"]
    assert reliability["xaxis"]["range"] == [0, 1] and reliability["yaxis"]["range"] == [0, 1]
    assert all(layout["separators"] == ",." for layout in figures.values())
    n = CustomerScore.objects.filter(is_latest=True).count()
    with translation.override("de"):
        assert f"{number_format(n, force_grouping=True)} " in page
