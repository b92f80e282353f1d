"""A campaign's advice waits for its data: "too early" until the horizon has passed.

On the contact day nobody has had time to buy, so both groups show a margin of
0 and the booked cost makes the numbers look like a loss; advising "stop" then
would be a figure that contradicts the page saying the horizon has not passed.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from stammkunde.campaigns import services

from .factories import NOW, consenting_customer, email_campaign

pytestmark = pytest.mark.django_db


def _campaign_with_enough_contacts():
    for i in range(90):
        consenting_customer(first_name=f"Kundin{i}")
    campaign = email_campaign(control_share=Decimal("0.5"), cost_per_contact=Decimal("1.50"))
    services.campaign_run(actor=None, campaign=campaign, now=NOW)
    contacts = campaign.contacts.values_list("group", flat=True)
    assert min(list(contacts).count("treatment"), list(contacts).count("control")) >= 30
    return campaign


def test_campaign_on_its_contact_day_is_too_early_not_stop() -> None:
    # given a campaign with enough customers in both groups, contacted today at a cost
    campaign = _campaign_with_enough_contacts()
    # when it is evaluated on day 0
    evaluation = services.campaign_evaluate(campaign=campaign, as_of=NOW.date(), now=NOW)
    # then the advice waits for the horizon
    assert evaluation.recommendation == "too_early"
    assert evaluation.is_final is False
    assert evaluation.summary["reason_code"] == "horizon_not_reached"


def test_campaign_page_says_zu_frueh_on_day_0(client, make_user) -> None:
    # given
    campaign = _campaign_with_enough_contacts()
    services.campaign_evaluate(campaign=campaign, as_of=NOW.date(), now=NOW)
    client.force_login(make_user("marketing"))
    # when
    html = client.get(f"/campaigns/{campaign.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    # then
    assert 'data-recommendation="too_early"' in html
    assert "zu früh" in html.lower()
    assert "Horizont" in html
    assert "horizon not reached" not in html


def test_after_the_horizon_the_advice_is_the_evaluators() -> None:
    # given the same campaign, evaluated once its horizon has passed (still no orders)
    campaign = _campaign_with_enough_contacts()
    later = NOW + timedelta(days=campaign.horizon_days + 1)
    # when
    evaluation = services.campaign_evaluate(campaign=campaign, as_of=later.date(), now=later)
    # then the numbers decide: cost without any margin is a loss
    assert evaluation.is_final is True
    assert evaluation.recommendation == "stop"
