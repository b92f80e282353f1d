"""In a real browser, as a marketing user would: switch on the churn-prone playbook, see
the agents' call tasks, run a win-back email with a control group, read its evaluation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail

from stammkunde.campaigns.models import Campaign
from stammkunde.core.services import user_create

from ..service.factories import queue
from .factories import (
    consenting_customer,
    phase_event,
    phone_consenting_customer,
    playbooks_ensure,
    score,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marketing_switches_on_playbooks_and_reads_the_evaluation(
    browser, live_server, insecure_cookies
) -> None:
    # given a churn-prone customer who may be called, churning customers with email consent
    playbooks_ensure()
    user_create(username="mara", password="pw-Stammkunde-1", roles=["marketing"])
    queue("Kundenservice")
    paula = phone_consenting_customer(first_name="Paula", last_name="Pedal")
    score(paula, phase="churn_prone")
    phase_event(paula, to="churn_prone", on=date.today())
    for i in range(30):
        customer = consenting_customer(first_name=f"Willi{i}")
        score(customer, phase="churning")
        phase_event(customer, to="churning", on=date.today())
    Campaign.objects.filter(playbook_phase__in=["churn_prone", "churning"]).update(
        control_share=Decimal("0.30")
    )
    page = browser.new_page(locale="en-GB")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "mara")
    page.fill("input[name=password]", "pw-Stammkunde-1")
    page.click("main button[type=submit]")
    page.wait_for_url("**/customers/")
    page.click("button[data-lang=en]")
    # when: switch on the churn-prone playbook from the campaign list
    page.goto(f"{live_server.url}/campaigns/")
    page.click("tr[data-playbook=churn_prone] button[value=active]")
    page.wait_for_selector("tr[data-playbook=churn_prone] button[value=paused]")
    # then: the agents' call task is listed on the playbook page (if Paula is not control)
    page.click("tr[data-playbook=churn_prone] a")
    page.wait_for_selector("#contacts")
    contacts = page.inner_text("#contacts")
    if page.locator("#call-tasks").count():
        assert "Paula Pedal" in page.inner_text("#call-tasks")
    else:
        assert "held_out" in contacts
    # when: switch on the win-back playbook (email with a control group)
    page.goto(f"{live_server.url}/campaigns/")
    page.click("tr[data-playbook=churning] button[value=active]")
    page.wait_for_selector("tr[data-playbook=churning] button[value=paused]")
    page.click("tr[data-playbook=churning] a")
    page.wait_for_selector("#contacts")
    # then: consenting customers got the mail, a control group was held out
    assert 10 < len(mail.outbox) < 30
    # when: evaluate now
    page.click("#evaluate")
    page.wait_for_selector("[data-recommendation]")
    # then: the evaluation with ROI and the advice (no purchases yet: too early)
    assert page.get_attribute("[data-recommendation]", "data-recommendation") == "too_early"
    assert page.locator("#roi").count() == 1
    page.close()
