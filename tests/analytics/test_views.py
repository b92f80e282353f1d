"""Where analytics shows: the customer panel, the customer list filters, the analytics page."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from stammkunde.analytics.orm import CustomerScore
from stammkunde.analytics.services import scoring_run
from stammkunde.demo.generator import demo_generate

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored() -> None:
    demo_generate(customers=400, seed=11, end=datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC))
    scoring_run(as_of=date(2026, 6, 30))


def _risky() -> CustomerScore:
    score = (
        CustomerScore.objects.filter(is_latest=True)
        .exclude(reasons=[])
        .order_by("-churn_risk")
        .first()
    )
    assert score is not None
    return score


def test_customer_page_shows_phase_risk_with_german_reasons_clv_and_class(
    scored: None, make_user, client
) -> None:
    # given
    client.force_login(make_user("agent"))
    score = _risky()
    # when
    page = client.get(
        reverse("customers:detail", args=[score.customer_id]), HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    # then
    assert 'id="panel-analytics"' in page
    assert f'data-phase="{score.phase}"' in page
    assert f"{round(score.churn_risk * 100)} %" in page
    assert score.reasons[0]["de"] in page
    assert f'badge {score.value_class}"' in page


def test_customer_panel_shows_reasons_in_english_for_english_users(
    scored: None, make_user, client
) -> None:
    # given
    client.force_login(make_user("analyst"))
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    score = _risky()
    # when
    page = client.get(reverse("customers:detail", args=[score.customer_id])).content.decode()
    # then
    assert score.reasons[0]["en"] in page
    assert score.reasons[0]["de"] not in page


def test_partner_agent_gets_404_for_a_scored_customer_and_never_the_score(
    scored: None, partner_agent, client
) -> None:
    # given
    client.force_login(partner_agent)
    score = _risky()
    # when
    response = client.get(reverse("customers:detail", args=[score.customer_id]))
    # then
    assert response.status_code == 404
    assert "panel-analytics" not in response.content.decode()


def test_customer_list_filters_by_phase_and_risk_band(scored: None, make_user, client) -> None:
    # given
    client.force_login(make_user("marketing"))
    churning = set(
        CustomerScore.objects.filter(is_latest=True, phase="churning").values_list(
            "customer__number", flat=True
        )
    )
    # when
    page = client.get(reverse("customers:list"), {"phase": "churning"}).content.decode()
    high = client.get(reverse("customers:list"), {"risk": "high"}).content.decode()
    unknown = client.get(reverse("customers:list"), {"phase": "nonsense"})
    # then
    shown = {n for n in churning if f">{n}<" in page}
    assert shown and len(shown) == min(len(churning), 50)
    established = CustomerScore.objects.filter(is_latest=True, phase="established").first()
    assert established is not None and f">{established.customer.number}<" not in page
    assert 'name="phase"' in page and 'name="risk"' in high
    assert unknown.status_code == 200


def test_analytics_page_shows_charts_and_model_quality_to_an_analyst(
    scored: None, make_user, client
) -> None:
    # given
    client.force_login(make_user("analyst"))
    # when
    response = client.get(reverse("analytics:dashboard"))
    # then
    page = response.content.decode()
    assert response.status_code == 200
    for block in ("chart-risk", "chart-phases", "chart-classes", "model-quality", "cohorts"):
        assert f'id="{block}"' in page
    assert 'class="plotly-chart"' in page and 'type="application/json"' in page  # charts.js
    assert "Plotly.newPlot" not in page  # no inline script (CSP)
    assert reverse("analytics:plotly_js") in page
    assert "cdn.plot.ly" not in page and "https://" not in page.split("<body")[0]


@pytest.mark.parametrize("role", ["admin", "marketing", "team_lead"])
def test_analytics_page_is_open_to_planning_roles(
    role: str, scored: None, make_user, client
) -> None:
    client.force_login(make_user(role))
    assert client.get(reverse("analytics:dashboard")).status_code == 200


@pytest.mark.parametrize("role", ["agent", "partner_agent", ""])
def test_analytics_page_is_forbidden_without_an_analytics_role(
    role: str, make_user, partner, client
) -> None:
    # given
    user = (
        make_user(role, partner=partner)
        if role == "partner_agent"
        else (make_user(role) if role else make_user())
    )
    client.force_login(user)
    # when
    response = client.get(reverse("analytics:dashboard"))
    # then
    assert response.status_code == 403


def test_analytics_page_redirects_anonymous_users_to_login(client) -> None:
    response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_analytics_nav_item_only_for_planning_roles(make_user, client) -> None:
    client.force_login(make_user("analyst"))
    assert 'href="/analytics/"' in client.get(reverse("customers:list")).content.decode()
    client.force_login(make_user("agent"))
    assert 'href="/analytics/"' not in client.get(reverse("customers:list")).content.decode()


def test_plotly_bundle_is_served_from_the_package_with_long_cache_headers(client) -> None:
    # when
    response = client.get(reverse("analytics:plotly_js"))
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "max-age=31536000" in response["Cache-Control"]
    assert b"plotly" in response.content[:2000].lower()


def test_analytics_page_without_a_run_says_so(make_user, client) -> None:
    client.force_login(make_user("analyst"))
    page = client.get(reverse("analytics:dashboard")).content.decode()
    assert "analytics score" in page


def test_customer_panel_costs_a_fixed_number_of_queries(
    scored: None, make_user, django_assert_max_num_queries
) -> None:
    from stammkunde.analytics.selectors import customer_analytics_context

    # given
    user = make_user("agent")
    customer = _risky().customer
    # when / then
    with django_assert_max_num_queries(3):
        context = customer_analytics_context(customer, user)
    assert context["score"] is not None
