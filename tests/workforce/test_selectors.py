"""Selectors over stored data: roster expansion, service-desk tickets, demo data end to end."""

from __future__ import annotations

from datetime import date, time

import pandas as pd
import pytest
from django.apps import apps

from stammkunde.workforce import selectors
from stammkunde.workforce.demo import PARTNER_LEIPZIG, PARTNER_NORD, workforce_demo_generate
from stammkunde.workforce.models import RosterEntry

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 4)  # a Wednesday; "next week" starts on Monday 9 March
NEXT_MONDAY = date(2026, 3, 9)


@pytest.fixture
def team_lead(make_user):
    return make_user("team_lead")


def test_an_hourly_roster_entry_covers_four_quarter_hours(team_lead):
    # given
    RosterEntry.objects.create(
        queue="Telefon", date=NEXT_MONDAY, interval_start=time(8), interval_minutes=60, agents=7
    )
    index = pd.date_range("2026-03-09 07:45", periods=6, freq="15min")
    # when
    planned = selectors.roster_series(user=team_lead, queue="Telefon", index=index)
    # then
    assert planned.tolist() == [0.0, 7.0, 7.0, 7.0, 7.0, 0.0]


def test_roster_is_invisible_to_agents(agent):
    # given
    RosterEntry.objects.create(queue="Telefon", date=NEXT_MONDAY, interval_start=time(8), agents=7)
    # when / then
    assert not RosterEntry.objects.visible_to(agent).exists()
    assert selectors.queue_names(user=agent) == []


def test_ticket_records_are_empty_while_the_service_app_has_no_ticket_model(team_lead, monkeypatch):
    # given
    def no_model(*args, **kwargs):
        raise LookupError("no Ticket yet")

    monkeypatch.setattr(apps, "get_model", no_model)
    # when
    records = selectors.ticket_records(user=team_lead, since=pd.Timestamp("2026-01-01", tz="UTC"))
    # then
    assert records.empty


def test_ticket_records_read_the_service_desk_when_it_exists(team_lead):
    # given: whatever the service app looks like today, reading it must not fail
    # when
    records = selectors.ticket_records(user=team_lead, since=pd.Timestamp("2026-01-01", tz="UTC"))
    # then
    assert isinstance(records, pd.DataFrame)


def test_demo_roster_falls_short_on_monday_morning(team_lead):
    # given
    workforce_demo_generate(seed=1, today=TODAY, weeks=3)
    # when
    plan = selectors.staffing_plan(user=team_lead, queue="Telefon", start=NEXT_MONDAY)
    # then
    gap = plan.gap["gap"]
    monday_morning = gap["2026-03-09 08:00":"2026-03-09 11:45"]
    assert (monday_morning < 0).sum() >= 8
    assert gap.idxmin().strftime("%a %H") in {f"Mon {h:02d}" for h in range(8, 12)}
    elsewhere = gap.drop(monday_morning.index)
    assert (elsewhere < 0).mean() < 0.05


def test_demo_scorecards_compare_two_partners_and_the_own_team(team_lead):
    # given
    workforce_demo_generate(seed=1, today=TODAY, weeks=3)
    # when
    cards = selectors.scorecards_get(user=team_lead, period="week", today=TODAY)
    totals = cards.totals.set_index("group")
    # then
    assert set(totals.index) == {PARTNER_NORD, PARTNER_LEIPZIG, "Team Stammhaus"}
    assert totals.loc[PARTNER_NORD, "ola_met"]
    assert not totals.loc[PARTNER_LEIPZIG, "ola_met"]
    assert (
        totals.loc[PARTNER_LEIPZIG, "sla_attainment"] < totals.loc[PARTNER_NORD, "sla_attainment"]
    )
    assert totals.loc[PARTNER_NORD, "cost_per_contact"] == pytest.approx(3.80)


def test_recall_scenario_needs_more_agents_than_the_plain_week(team_lead):
    # given
    workforce_demo_generate(seed=1, today=TODAY, weeks=3)
    # when
    outcome = selectors.scenario_run(
        user=team_lead, queue="Telefon", start=NEXT_MONDAY, days=3, uplift=0.4
    )
    # then
    assert outcome.scenario.need["required"].sum() > outcome.baseline.need["required"].sum()
    assert outcome.extra_agent_hours > outcome.baseline.missing_agent_hours
    assert outcome.agents_to_add["2026-03-12":].sum() == 0  # day 4 is outside the peak


def test_scenario_rejects_impossible_input(team_lead):
    # given / when / then
    from stammkunde.core.errors import ApplicationError

    with pytest.raises(ApplicationError) as caught:
        selectors.scenario_run(
            user=team_lead, queue="Telefon", start=NEXT_MONDAY, days=0, uplift=-2
        )
    assert set(caught.value.field_errors) == {"days", "uplift"}


def test_service_desk_tickets_feed_the_partner_scorecard(team_lead):
    # given: the service desk app (built in parallel) with a partner queue
    from datetime import UTC, datetime

    from stammkunde.core.models import ServicePartner
    from tests.workforce import factories

    if selectors._ticket_model() is None:
        pytest.skip("the service app has no Ticket model yet")
    ticket_model = apps.get_model("service", "Ticket")
    queue_model = apps.get_model("service", "Queue")
    nord = ServicePartner.objects.create(name="Nord")
    factories.contract(nord, price_per_ticket=5, min_fcr_rate=0.5, min_sla_attainment=None)
    queue = queue_model.objects.create(name="Reklamationen", partner=nord)
    moment = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    for number, status, fcr in (
        ("T-1", "solved", True),
        ("T-2", "closed", False),
        ("T-3", "reopened", None),
    ):
        ticket_model.objects.create(
            number=number,
            subject="Bremse",
            sender_email="kunde@example.org",
            queue=queue,
            status=status,
            first_contact_resolved=fcr,
            created_at=moment,
            updated_at=moment,
        )
    # when
    cards = selectors.scorecards_get(user=team_lead, period="month", since=date(2026, 3, 1))
    # then
    row = cards.totals.set_index("group").loc["Nord"]
    assert "tickets" in cards.sources
    assert row["volume"] == 3
    assert row["solved"] == 2
    assert row["fcr_rate"] == pytest.approx(0.5)
    assert row["reopen_rate"] == pytest.approx(1 / 3)
    assert row["cost_per_contact"] == pytest.approx(5.0)
