"""Planning pages: what a team lead sees, and what others must not."""

from __future__ import annotations

import csv
import io

import plotly
import pytest

from stammkunde.core.models import ServicePartner
from tests.workforce import factories

pytestmark = pytest.mark.django_db
WEEK = "2026-03-02"
PLANNER_PAGES = [
    "/workforce/",
    f"/workforce/forecast/?week={WEEK}",
    f"/workforce/staffing/?week={WEEK}",
    f"/workforce/scenario/?queue=Telefon&start={WEEK}&days=3&uplift_percent=40",
    "/workforce/imports/",
]


@pytest.fixture
def team_lead(make_user):
    return make_user("team_lead")


@pytest.fixture
def planned_queue():
    factories.history(days=21)
    factories.target()


def test_team_lead_sees_forecast_staffing_scenario_and_import_pages(
    client, team_lead, planned_queue
):
    # given
    client.force_login(team_lead)
    # when / then
    for url in PLANNER_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"cdn.plot.ly" not in response.content
    forecast = client.get(PLANNER_PAGES[1])
    assert f"/workforce/plotly-{plotly.__version__}.js".encode() in forecast.content
    assert b"WAPE" in forecast.content


def test_planning_appears_in_the_navigation_of_a_team_lead_only(client, team_lead, agent):
    # given / when
    client.force_login(team_lead)
    lead_page = client.get("/workforce/imports/").content.decode()
    client.force_login(agent)
    agent_page = client.get("/customers/").content.decode()
    # then
    assert 'href="/workforce/"' in lead_page
    assert 'href="/workforce/"' not in agent_page


def test_staffing_page_shows_where_the_roster_falls_short(client, team_lead, planned_queue):
    # given: nobody planned on Monday 08:00-12:00, enough agents otherwise
    client.force_login(team_lead)
    for start, end, agents in (("00:00", "08:00", 40), ("12:00", "00:00", 40)):
        client.post(
            "/workforce/staffing/roster/",
            {"queue": "Telefon", "day": WEEK, "start": start, "end": end, "agents": agents},
        )
    # when
    response = client.get(f"/workforce/staffing/?queue=Telefon&week={WEEK}&format=csv")
    # then
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    short = [
        r["interval_start"][11:16]
        for r in rows
        if r["status"] == "under" and r["interval_start"].startswith(WEEK)
    ]
    assert short and min(short) >= "08:00" and max(short) < "12:00"


def test_scenario_page_shows_agents_to_add(client, team_lead, planned_queue):
    # given
    client.force_login(team_lead)
    # when
    response = client.get(PLANNER_PAGES[3])
    # then
    assert response.status_code == 200
    assert response.context["outcome"].extra_agent_hours > 0
    assert response.context["outcome"].peak_add > 0


def test_agent_without_planning_rights_gets_403_everywhere(client, agent, planned_queue):
    # given
    client.force_login(agent)
    # when / then
    for url in [*PLANNER_PAGES, "/workforce/scorecards/"]:
        assert client.get(url).status_code == 403, url
    assert client.post("/workforce/staffing/roster/", {}).status_code == 403


def test_partner_agent_sees_only_its_own_scorecard_and_404_for_another(client, make_user):
    # given
    nord = ServicePartner.objects.create(name="Nord")
    sued = ServicePartner.objects.create(name="Süd")
    factories.contract(nord)
    factories.contract(sued)
    factories.history(days=14, partner=nord, quality=(0.9, 0.7, 0.05))
    factories.history(days=14, partner=sued, quality=(0.6, 0.5, 0.2), seed=4)
    client.force_login(make_user("partner_agent", partner=nord))
    # when
    overview = client.get("/workforce/scorecards/?period=month&since=2026-01-01")
    own = client.get(f"/workforce/scorecards/partner/{nord.pk}/?since=2026-01-01")
    other = client.get(f"/workforce/scorecards/partner/{sued.pk}/")
    planning = client.get("/workforce/staffing/")
    # then
    assert overview.status_code == own.status_code == 200
    assert [c["group"] for c in overview.context["cards"]] == ["Nord"]
    assert "Süd" not in overview.content.decode()
    assert other.status_code == 404
    assert planning.status_code == 403


def test_team_lead_compares_two_partners_side_by_side_with_ola_verdicts(client, team_lead):
    # given
    nord = ServicePartner.objects.create(name="Nord")
    sued = ServicePartner.objects.create(name="Süd")
    factories.contract(nord)
    factories.contract(sued)
    factories.history(days=14, partner=nord, quality=(0.9, 0.7, 0.05))
    factories.history(days=14, partner=sued, quality=(0.6, 0.5, 0.2), seed=4)
    client.force_login(team_lead)
    # when
    response = client.get("/workforce/scorecards/?period=week&since=2026-01-01")
    # then
    cards = {c["group"]: c for c in response.context["cards"]}
    assert set(cards) == {"Nord", "Süd"}
    assert cards["Nord"]["ola_met"] and not cards["Süd"]["ola_met"]
    assert cards["Nord"]["cost_per_contact"] == pytest.approx(4.0)


def test_scorecard_csv_neutralises_formula_cells(client, team_lead):
    # given: a partner whose name a spreadsheet would run as a formula
    evil = ServicePartner.objects.create(name='=HYPERLINK("http://x")')
    factories.contract(evil)
    factories.history(days=7, partner=evil, quality=(0.9, 0.7, 0.05))
    client.force_login(team_lead)
    # when
    response = client.get("/workforce/scorecards/?period=month&since=2026-01-01&format=csv")
    # then
    text = response.content.decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert "'=HYPERLINK" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_import_page_lists_bad_lines_and_stores_nothing(client, team_lead):
    # given
    client.force_login(team_lead)
    upload = io.BytesIO(
        b"queue,channel,interval_start,contacts\nTelefon,phone,2026-03-02T08:00,-1\n"
    )
    upload.name = "v.csv"
    # when
    response = client.post("/workforce/imports/", {"kind": "volumes", "volumes-file": upload})
    # then
    assert response.status_code == 200
    assert "line 2" in response.content.decode()
    from stammkunde.workforce.models import ContactVolume

    assert not ContactVolume.objects.exists()


def test_plotly_bundle_is_served_locally_with_long_cache(client):
    # given / when
    response = client.get(f"/workforce/plotly-{plotly.__version__}.js", HTTP_ACCEPT_ENCODING="gzip")
    # then
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert response["Content-Encoding"] == "gzip"
    assert client.get("/workforce/plotly-0.0.1.js").status_code == 404


def test_team_lead_sets_a_staffing_target_in_percent(client, team_lead):
    # given
    from stammkunde.workforce.models import StaffingTarget

    client.force_login(team_lead)
    # when
    client.post(
        "/workforce/staffing/target/",
        {
            "queue": "Telefon",
            "channel": "phone",
            "target_percent": "90",
            "target_answer_s": "30",
            "shrinkage_percent": "25",
            "max_occupancy_percent": "85",
        },
    )
    rejected = client.post(
        "/workforce/staffing/target/",
        {
            "queue": "Telefon",
            "channel": "phone",
            "target_percent": "100",
            "target_answer_s": "30",
            "shrinkage_percent": "25",
        },
        follow=True,
    )
    # then
    target = StaffingTarget.objects.get()
    assert (
        float(target.target_sl),
        target.target_answer_s,
        float(target.shrinkage),
        float(target.max_occupancy),
    ) == (0.9, 30, 0.25, 0.85)
    page = rejected.content.decode()
    assert "target_percent" not in page.split("<main>")[1].split("<form")[0]  # no raw code
    assert "Servicelevel (%)" in page or "service level (%)" in page


def test_the_staffing_target_form_saves_its_own_prefilled_values(client, team_lead):
    """Shares like 0.8 and 0.3 come back as 80.0 and 30.0, not 80.00000000000001 (refused)."""
    import re
    from decimal import Decimal

    from stammkunde.workforce.models import StaffingTarget
    from stammkunde.workforce.services import staffing_target_set

    staffing_target_set(
        actor=None, queue="Telefon", channel="phone", target_sl=Decimal("0.8"),
        target_answer_s=20, shrinkage=Decimal("0.3"), max_occupancy=Decimal("0.85"),
        aht_override_s=None,
    )  # fmt: skip
    factories.history(days=7)
    client.force_login(team_lead)
    page = client.get("/workforce/staffing/", {"queue": "Telefon"}).content.decode()
    form = page[page.index('action="/workforce/staffing/target/') :].split("</form>")[0]
    values = dict(re.findall(r'name="(\w+)"[^>]*?value="([^"]*)"', form))
    assert values["target_percent"] == "80.0" and values["shrinkage_percent"] == "30.0"
    values["channel"] = "phone"
    # when the planner saves the form as it was shown
    response = client.post("/workforce/staffing/target/", values, follow=True)
    # then it is saved, unchanged
    assert "Staffing target saved." in response.content.decode() or (
        "gespeichert" in response.content.decode()
    )
    target = StaffingTarget.objects.get()
    assert (float(target.target_sl), float(target.shrinkage)) == (0.8, 0.3)


def test_agent_and_analyst_cannot_change_staffing_targets(client, agent, make_user):
    # given
    data = {
        "queue": "Telefon",
        "channel": "phone",
        "target_percent": "90",
        "target_answer_s": "30",
        "shrinkage_percent": "25",
    }
    # when / then
    client.force_login(agent)
    assert client.post("/workforce/staffing/target/", data).status_code == 403
    client.force_login(make_user("analyst"))
    assert client.post("/workforce/staffing/target/", data).status_code == 403


def test_scorecard_page_needs_a_fixed_number_of_queries(
    client, team_lead, django_assert_max_num_queries
):
    # given: two partners with two weeks of 15-minute history each
    nord = ServicePartner.objects.create(name="Nord")
    sued = ServicePartner.objects.create(name="Süd")
    factories.contract(nord)
    factories.contract(sued)
    factories.history(days=14, partner=nord, quality=(0.9, 0.7, 0.05))
    factories.history(days=14, partner=sued, quality=(0.6, 0.5, 0.2), seed=4)
    client.force_login(team_lead)
    # when / then: not one query per partner, period or interval
    with django_assert_max_num_queries(15):
        assert client.get("/workforce/scorecards/?since=2026-01-01").status_code == 200


def test_scorecard_page_answers_when_tickets_and_contact_volumes_are_combined(client, team_lead):
    # given: a partner with imported contact volumes and a solved service-desk ticket
    from datetime import UTC, datetime

    from stammkunde.service import services as service_services

    from ..service import factories as service_factories

    nord = ServicePartner.objects.create(name="Nord")
    factories.contract(nord, price_per_ticket=5)
    factories.history(days=14, partner=nord)
    opened = service_factories.ticket(
        q=service_factories.queue("Reklamationen", partner=nord),
        now=datetime(2026, 1, 12, 9, 0, tzinfo=UTC),
    )
    service_services.ticket_solve(actor=None, ticket=opened, expected_version=None)
    client.force_login(team_lead)
    # when
    response = client.get("/workforce/scorecards/?period=month&since=2026-01-01")
    # then
    assert response.status_code == 200
    assert len(response.context["sources"]) == 2  # tickets and contact volumes
