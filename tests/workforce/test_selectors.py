"""Selectors over stored data: roster expansion, service-desk tickets, demo data end to end."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pandas as pd
import pytest

from stammkunde.service import services as service_services
from stammkunde.workforce import selectors
from stammkunde.workforce.demo import PARTNER_LEIPZIG, PARTNER_NORD, workforce_demo_generate
from stammkunde.workforce.models import RosterEntry

from ..service import factories as service_factories
from . import factories

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 4)  # a Wednesday; "next week" starts on Monday 9 March
NEXT_MONDAY = date(2026, 3, 9)
MONDAY_BEFORE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


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


def _partner_ticket(partner_name: str, *, solved: bool) -> None:
    """A ticket in a queue of ``partner_name``, created on the Monday before TODAY."""
    from stammkunde.core.models import ServicePartner

    partner, _ = ServicePartner.objects.get_or_create(name=partner_name)
    opened = service_factories.ticket(
        q=service_factories.queue(f"Queue {partner_name}", partner=partner), now=MONDAY_BEFORE
    )
    if solved:
        service_services.ticket_solve(actor=None, ticket=opened, expected_version=None)


def test_ticket_records_read_the_service_desk(team_lead):
    # given: one solved ticket of a partner's queue
    _partner_ticket(PARTNER_NORD, solved=True)
    # when
    records = selectors.ticket_records(user=team_lead, since=pd.Timestamp("2026-01-01", tz="UTC"))
    # then: one contact of weight 1, solved at first contact, no SLA breached
    assert len(records) == 1
    row = records.iloc[0]
    assert row["group"] == PARTNER_NORD
    assert row["weight"] == 1.0
    assert bool(row["solved"]) and not bool(row["reopened"])
    assert row["fcr"] == 1.0
    assert row["created_at"] == pd.Timestamp("2026-03-02 10:00")  # Berlin local time


def test_scorecards_combine_tickets_and_contact_volumes(team_lead):
    # given: the demo's contact volumes and two tickets of a partner's queue
    workforce_demo_generate(seed=1, today=TODAY, weeks=3)
    before = selectors.scorecards_get(user=team_lead, period="week", today=TODAY)
    _partner_ticket(PARTNER_NORD, solved=True)
    _partner_ticket(PARTNER_NORD, solved=False)
    # when
    cards = selectors.scorecards_get(user=team_lead, period="week", today=TODAY)
    # then: both sources count, the tickets add two contacts to the partner's volume
    assert cards.sources == ["tickets", "contact volumes"]
    volume = cards.totals.set_index("group")["volume"]
    assert volume[PARTNER_NORD] == before.totals.set_index("group")["volume"][PARTNER_NORD] + 2


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


def _nord_queue() -> Any:
    from stammkunde.core.models import ServicePartner

    nord = ServicePartner.objects.create(name="Nord")
    return nord, service_factories.queue("Reklamationen", partner=nord)


def test_service_desk_tickets_feed_the_partner_scorecard(team_lead):
    # given: a partner queue with a ticket solved at first contact, one solved after the
    # customer wrote twice and one the customer reopened after it was solved
    nord, queue = _nord_queue()
    factories.contract(nord, price_per_ticket=5, min_fcr_rate=0.5, min_sla_attainment=None)
    at = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    first = service_factories.ticket(q=queue, now=at)
    service_services.ticket_solve(actor=None, ticket=first, expected_version=None)
    twice = service_factories.ticket(q=queue, now=at)
    service_services.ticket_reply(
        actor=None, ticket=twice, body="Noch etwas.", from_customer=True, now=at
    )
    service_services.ticket_solve(actor=None, ticket=twice, expected_version=None)
    again = service_factories.ticket(q=queue, now=at)
    service_services.ticket_solve(actor=None, ticket=again, expected_version=None)
    service_services.ticket_reply(
        actor=None, ticket=again, body="Geht wieder nicht.", from_customer=True, now=at
    )
    # when
    cards = selectors.scorecards_get(user=team_lead, period="month", since=date(2026, 3, 1))
    # then
    row = cards.totals.set_index("group").loc["Nord"]
    assert "tickets" in cards.sources
    assert row["volume"] == 3
    assert row["solved"] == 2
    assert row["fcr_rate"] == pytest.approx(1 / 3)
    assert row["reopen_rate"] == pytest.approx(1 / 3)
    assert row["cost_per_contact"] == pytest.approx(5.0)


def test_scorecard_combines_tickets_and_contact_volumes_of_one_partner(team_lead):
    # given: a partner queue with service-desk tickets and imported contact volumes
    nord, queue = _nord_queue()
    factories.contract(nord, price_per_ticket=5, min_sla_attainment=None)
    for _ in range(2):
        opened = service_factories.ticket(q=queue, now=datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
        service_services.ticket_solve(actor=None, ticket=opened, expected_version=None)
    factories.history(partner=nord, days=2, end=date(2026, 3, 5), daily_volume=50)
    volume = int(
        selectors.volume_records(user=team_lead, since=datetime(2026, 3, 1, tzinfo=UTC))[
            "weight"
        ].sum()
    )
    # when
    cards = selectors.scorecards_get(user=team_lead, period="month", since=date(2026, 3, 1))
    # then: each ticket counts once, each aggregated record with its contacts
    row = cards.totals.set_index("group").loc["Nord"]
    assert cards.sources == ["tickets", "contact volumes"]
    assert row["volume"] == 2 + volume
