"""The visual segment builder (German, no inline script) writes the same definitions the
JSON form accepts: every definition of the segment tests survives a round trip."""

from __future__ import annotations

import json

import pytest

from stammkunde.campaigns import services
from stammkunde.core.services import user_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The definitions of tests/campaigns/test_segments.py (the old JSON form accepted them).
DEFINITIONS = [
    {"field": "phase", "op": "eq", "value": "churning"},
    {"field": "churn_risk", "op": "gte", "value": 0.5},
    {"field": "phase", "op": "in", "value": ["churning", "established"]},
    {"field": "purchased_product", "op": "eq", "value": "ZB-HELM-01", "within_days": 10},
    {"field": "orders_count", "op": "gte", "value": 2, "within_days": 100},
    {"field": "revenue", "op": "eq", "value": 0},
    {"field": "days_since_last_purchase", "op": "gt", "value": 180},
    {"field": "purchased_category", "op": "eq", "value": "Zubehör"},
    {"field": "has_returns", "op": "is", "value": True},
    {"field": "email_marketing_consent", "op": "is", "value": True},
    {
        "any": [
            {"field": "has_returns", "op": "is", "value": True},
            {"not": {"field": "prospect", "op": "is", "value": False}},
        ]
    },
    {"all": []},
    {
        "all": [
            {"field": "phase", "op": "eq", "value": "churning"},
            {"field": "has_returns", "op": "is", "value": True, "within_days": 90},
            {"field": "orders_count", "op": "gte", "value": 1},
            {"field": "nps", "op": "lte", "value": 6, "within_days": 365},
        ]
    },
]


def _as_group(rules: dict) -> dict:
    """The builder's root is always a group: a bare condition becomes ``all`` of one."""
    return rules if ("all" in rules or "any" in rules) else {"all": [rules]}


def test_builder_round_trips_every_definition_in_german(
    browser, live_server, insecure_cookies
) -> None:
    user_create(username="mara", password="pw-Stammkunde-1", roles=["marketing"])
    segments = [
        services.segment_save(actor=None, name=f"S{i}", rules=rules)
        for i, rules in enumerate(DEFINITIONS)
    ]
    page = browser.new_page(locale="de-DE", viewport={"width": 390, "height": 844})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "mara")
    page.fill("input[name=password]", "pw-Stammkunde-1")
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    for segment, rules in zip(segments, DEFINITIONS, strict=True):
        page.goto(f"{live_server.url}/campaigns/segments/{segment.pk}/")
        page.wait_for_selector("#segment-builder[data-state=ready]")
        # a change in the builder writes the definition from what the builder shows
        page.dispatch_event("#segment-builder > fieldset > legend .sb-mode", "change")
        written = json.loads(page.input_value("#id_rules"))
        assert written == _as_group(rules), rules
    # German labels, and a condition added in the builder is saved
    page.goto(f"{live_server.url}/campaigns/segments/new/")
    page.wait_for_selector("#segment-builder[data-state=ready]")
    assert "alle treffen zu (und)" in page.inner_text("#segment-builder")
    page.fill("input[name=name]", "Abwanderer")
    page.click("#segment-builder .sb-add")
    page.select_option("#segment-builder .sb-field", "churn_risk")
    page.select_option("#segment-builder .sb-op", "gte")
    page.fill("#segment-builder .sb-value", "0,7")
    assert "Abwanderungsrisiko" in page.inner_text("#segment-builder")
    page.click("main form button.primary[type=submit]")
    page.wait_for_url("**/segments/")
    from stammkunde.campaigns.models import Segment

    assert Segment.objects.get(name="Abwanderer").rules == {
        "all": [{"field": "churn_risk", "op": "gte", "value": 0.7}]
    }
    assert errors == []
    page.close()
