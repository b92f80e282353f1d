"""Workforce API: Erlang staffing, forecast, scorecards — and who may call them."""

from __future__ import annotations

import pytest

from stammkunde.core.models import ServicePartner
from tests.workforce import factories

pytestmark = pytest.mark.django_db
ERLANG = "/api/staffing/erlang/"
URL = "/api/workforce/scorecards/"
PUBLISHED = {
    "calls": 100,
    "interval_s": 1800,
    "aht_s": 180,
    "target_answer_s": 20,
    "target_sl": 0.8,
}


@pytest.fixture
def team_lead(make_user):
    return make_user("team_lead")


def test_erlang_endpoint_answers_the_published_example(api_as, team_lead):
    # given / when
    response = api_as(team_lead).post(ERLANG, {**PUBLISHED, "shrinkage": 0.3}, format="json")
    # then
    assert response.status_code == 200
    assert response.json()["raw_agents"] == 14
    assert response.json()["scheduled_agents"] == 20
    assert response.json()["service_level"] == pytest.approx(0.88835, abs=5e-6)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target_sl": 1.5}, "target_sl"),
        ({"target_sl": 0}, "target_sl"),
        ({"calls": 0}, "calls"),
        ({"calls": -3}, "calls"),
        ({"aht_s": 0}, "aht_s"),
        ({"interval_s": 420}, "interval_s"),
        ({"shrinkage": 1}, "shrinkage"),
        ({"max_occupancy": 0}, "max_occupancy"),
        ({"calls": "many"}, "calls"),
        ({"agents": -1}, "agents"),
        ({"aht_s": None}, "aht_s"),
    ],
)
def test_erlang_endpoint_answers_bad_input_with_400_and_the_field(api_as, team_lead, change, field):
    # given / when
    response = api_as(team_lead).post(ERLANG, {**PUBLISHED, **change}, format="json")
    # then
    assert response.status_code == 400
    assert field in response.json()


def test_erlang_endpoint_with_too_few_agents_says_unstable_without_a_wait(api_as, team_lead):
    # given / when
    response = api_as(team_lead).post(ERLANG, {**PUBLISHED, "agents": 9}, format="json")
    # then
    assert response.status_code == 200
    assert response.json()["stable"] is False
    assert response.json()["asa_s"] is None


def test_erlang_endpoint_refuses_agents_partner_agents_and_anonymous(
    api_as, agent, partner_agent, client
):
    # given / when / then
    assert api_as(agent).post(ERLANG, PUBLISHED, format="json").status_code == 403
    assert api_as(partner_agent).post(ERLANG, PUBLISHED, format="json").status_code == 403
    assert client.post(ERLANG, PUBLISHED, content_type="application/json").status_code in (401, 403)


def test_forecast_endpoint_gives_next_weeks_intervals_with_required_agents(api_as, team_lead):
    # given
    factories.history(days=21)
    factories.target()
    # when
    response = api_as(team_lead).get(
        "/api/workforce/forecast/", {"queue": "Telefon", "week": "2026-03-02", "days": 1}
    )
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["channel"] == "phone"
    assert len(body["intervals"]) == 96
    peak = max(body["intervals"], key=lambda i: i["contacts"])
    assert 9 <= int(peak["interval_start"][11:13]) <= 11  # the morning peak around 10:00
    assert peak["required_agents"] > 0


def test_forecast_endpoint_400_for_missing_or_unknown_queue_and_403_for_agents(
    api_as, team_lead, agent
):
    # given
    factories.history(days=21)
    # when / then
    assert api_as(team_lead).get("/api/workforce/forecast/").status_code == 400
    assert api_as(team_lead).get("/api/workforce/forecast/", {"queue": "Fax"}).status_code == 400
    assert (
        api_as(team_lead)
        .get("/api/workforce/forecast/", {"queue": "Telefon", "days": 99})
        .status_code
        == 400
    )
    assert api_as(agent).get("/api/workforce/forecast/", {"queue": "Telefon"}).status_code == 403


def test_scorecards_endpoint_shows_a_partner_agent_only_its_own_partner(
    api_as, team_lead, make_user
):
    # given
    nord = ServicePartner.objects.create(name="Nord")
    sued = ServicePartner.objects.create(name="Süd")
    factories.contract(nord)
    factories.contract(sued)
    factories.history(days=14, end=factories.WEEK, partner=nord, quality=(0.9, 0.7, 0.05))
    factories.history(days=14, end=factories.WEEK, partner=sued, quality=(0.6, 0.5, 0.2), seed=4)
    nord_agent = make_user("partner_agent", partner=nord)
    # when
    as_lead = api_as(team_lead).get(URL, {"period": "month", "since": "2026-01-01"})
    as_nord = api_as(nord_agent).get(URL, {"period": "month", "since": "2026-01-01"})
    # then
    assert as_lead.status_code == as_nord.status_code == 200
    assert {r["group"] for r in as_lead.json()["results"]} == {"Nord", "Süd"}
    assert {r["group"] for r in as_nord.json()["results"]} == {"Nord"}


def test_scorecards_endpoint_is_closed_to_agents(api_as, agent):
    # given / when / then
    assert api_as(agent).get("/api/workforce/scorecards/").status_code == 403
