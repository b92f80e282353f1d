"""The demo's service operations fit a bike shop with a workshop and a handful of agents."""

from __future__ import annotations

from datetime import date

import pytest

from stammkunde.workforce import selectors
from stammkunde.workforce.demo import QUEUES, workforce_demo_generate

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 4)  # a Wednesday; "next week" starts on Monday 9 March
NEXT_MONDAY = date(2026, 3, 9)


@pytest.fixture
def team_lead(make_user):
    return make_user("team_lead")


def test_demo_forecast_asks_for_a_handful_of_agents_at_the_peak(team_lead):
    # given the demo's twelve weeks of calls and mails
    workforce_demo_generate(seed=1, today=TODAY)
    # when next week's requirement is planned per queue
    required = [
        selectors.requirement_get(user=team_lead, queue=queue.name, start=NEXT_MONDAY)["required"]
        for queue in QUEUES
    ]
    # then the busiest quarter hour, calls and mails together, needs a small shop's team
    together = sum(required[1:], required[0])
    assert 3 <= together.max() <= 6
