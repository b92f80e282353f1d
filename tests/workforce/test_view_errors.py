"""A selector that refuses its input (ApplicationError) shows its reason, never a 500."""

from __future__ import annotations

import pytest

from stammkunde.core.models import ServicePartner
from stammkunde.workforce import views
from tests.workforce import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def period_from_the_query(monkeypatch):
    """Hand the raw ``period`` to the selector, so that its own check refuses "day"."""
    monkeypatch.setattr(views, "_period", lambda request: request.GET.get("period", "week"))


@pytest.mark.parametrize("page", ["overview", "partner"])
def test_a_refused_scorecard_request_shows_the_reason_in_german(
    client, make_user, period_from_the_query, page
) -> None:
    # given
    nord = ServicePartner.objects.create(name="Nord")
    factories.contract(nord)
    factories.history(days=3, partner=nord, quality=(0.9, 0.7, 0.05))
    client.force_login(make_user("team_lead"))
    url = (
        "/workforce/scorecards/"
        if page == "overview"
        else f"/workforce/scorecards/partner/{nord.pk}/"
    )
    # when
    response = client.get(f"{url}?period=day", HTTP_ACCEPT_LANGUAGE="de")
    # then
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["Ungültiger Zeitraum."]
    assert "Ungültiger Zeitraum." in response.content.decode()
