"""Partner and team scorecards from plain ticket records."""

from __future__ import annotations

import pytest

from stammkunde.workforce.erlang import StaffingInputError
from stammkunde.workforce.scorecard import Contract, scorecard


def ticket(group: str = "Partner A", created_at: str = "2026-03-02", **fields):
    record = {
        "group": group,
        "created_at": created_at,
        "solved": True,
        "sla_met": True,
        "fcr": True,
        "reopened": False,
        "csat": 5,
        "handling_minutes": 10.0,
    }
    record.update(fields)
    return record


CONTRACTS = {
    "Partner A": Contract(price_per_ticket=4.0, min_sla_attainment=0.8, max_reopen_rate=0.1),
    "Partner B": Contract(price_per_minute=0.5, min_fcr_rate=0.7),
}


def test_scorecard_computes_kpis_and_cost_per_contact_for_a_per_ticket_partner():
    # given
    tickets = [
        ticket(),
        ticket(sla_met=False, fcr=False, csat=3, handling_minutes=20.0),
        ticket(reopened=True, csat=None),
        ticket(sla_met=None),
    ]
    # when
    card = scorecard(tickets, CONTRACTS).iloc[0]
    # then
    assert card["volume"] == 4
    assert card["sla_attainment"] == pytest.approx(2 / 3)
    assert card["fcr_rate"] == pytest.approx(0.75)
    assert card["reopen_rate"] == pytest.approx(0.25)
    assert card["csat_mean"] == pytest.approx(13 / 3)
    assert card["handling_minutes_mean"] == pytest.approx(12.5)
    assert card["cost_per_contact"] == pytest.approx(4.0)
    assert not card["ola_met"]  # SLA 67 % < 80 %, reopen 25 % > 10 %


def test_per_minute_contract_prices_handling_time():
    # given
    tickets = [
        ticket("Partner B", handling_minutes=10.0),
        ticket("Partner B", handling_minutes=30.0),
    ]
    # when
    card = scorecard(tickets, CONTRACTS).iloc[0]
    # then
    assert card["cost_total"] == pytest.approx(20.0)
    assert card["cost_per_contact"] == pytest.approx(10.0)
    assert card["ola_met"]


def test_scorecard_groups_by_partner_and_month():
    # given
    tickets = [
        ticket("Partner A", "2026-02-27"),
        ticket("Partner A", "2026-03-02"),
        ticket("Partner B", "2026-03-03"),
    ]
    # when
    card = scorecard(tickets, CONTRACTS, period="month")
    # then
    assert list(zip(card["group"], card["period"].dt.strftime("%Y-%m"), strict=True)) == [
        ("Partner A", "2026-02"),
        ("Partner A", "2026-03"),
        ("Partner B", "2026-03"),
    ]


def test_weekly_periods_start_on_monday():
    # given: Sunday 1 March and Monday 2 March fall in different ISO weeks
    tickets = [ticket(created_at="2026-03-01"), ticket(created_at="2026-03-02")]
    # when
    card = scorecard(tickets, CONTRACTS, period="week")
    # then
    assert card["period"].dt.strftime("%Y-%m-%d").tolist() == ["2026-02-23", "2026-03-02"]


def test_ola_target_without_data_in_the_period_is_not_met():
    # given
    tickets = [ticket(sla_met=None)]
    # when
    card = scorecard(tickets, CONTRACTS).iloc[0]
    # then
    assert not card["ola_met"]


def test_ticket_of_a_group_without_contract_is_an_error():
    # given / when / then
    with pytest.raises(StaffingInputError) as caught:
        scorecard([ticket("Unknown Ltd")], CONTRACTS)
    assert caught.value.field == "contracts"


def test_no_tickets_give_an_empty_scorecard():
    # given / when / then
    assert scorecard([], CONTRACTS).empty


def test_aggregated_interval_records_give_the_same_numbers_as_single_tickets():
    # given: 4 tickets, and the same 4 contacts as two interval reports
    tickets = [
        ticket(),
        ticket(sla_met=False, fcr=False, csat=3, handling_minutes=20.0),
        ticket(reopened=True, csat=None),
        ticket(sla_met=None),
    ]
    reports = [
        {
            "group": "Partner A",
            "created_at": "2026-03-02",
            "weight": 2,
            "handling_minutes": 15.0,
            "solved": 1.0,
            "sla_met": 0.5,
            "fcr": 0.5,
            "reopened": 0.0,
            "csat": 4.0,
        },
        {
            "group": "Partner A",
            "created_at": "2026-03-02",
            "weight": 2,
            "handling_minutes": 10.0,
            "solved": 1.0,
            "sla_met": 1.0,
            "sla_met_weight": 1,
            "fcr": 1.0,
            "reopened": 0.5,
            "csat": 5.0,
            "csat_weight": 1,
        },
    ]
    # when
    single = scorecard(tickets, CONTRACTS).iloc[0]
    aggregated = scorecard(reports, CONTRACTS).iloc[0]
    # then
    for column in (
        "volume",
        "solved",
        "sla_attainment",
        "fcr_rate",
        "reopen_rate",
        "csat_mean",
        "handling_minutes_mean",
        "cost_total",
        "cost_per_contact",
    ):
        assert aggregated[column] == pytest.approx(single[column]), column
    assert aggregated["ola_met"] == single["ola_met"]
