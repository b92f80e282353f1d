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
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.click("button[data-lang=en]")
    # when: switch on the churn-prone playbook from the campaign list
    page.goto(f"{live_server.url}/campaigns/")
    page.click("tr[data-playbook=churn_prone] button[value=active]")
    page.wait_for_selector("#preview-summary")  # asks first
    page.click("#confirm")
    page.wait_for_selector("tr[data-playbook=churn_prone] button[value=paused]")
    # then: the agents' call task is listed on the playbook page (if Paula is not control)
    page.click("tr[data-playbook=churn_prone] a")
    page.wait_for_selector("#contacts")
    contacts = page.inner_text("#contacts")
    if page.locator("#call-tasks").count():
        assert "Paula Pedal" in page.inner_text("#call-tasks")
    else:
        assert "held out (control)" in contacts  # a label, never the code
    # when: switch on the win-back playbook (email with a control group)
    page.goto(f"{live_server.url}/campaigns/")
    page.click("tr[data-playbook=churning] button[value=active]")
    page.wait_for_selector("#preview-summary")  # asks first
    page.click("#confirm")
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


def test_marketing_sees_the_preview_confirms_and_reads_the_contacted_count_on_a_phone(
    browser, live_server, insecure_cookies
) -> None:
    # given an active e-mail campaign and eight customers who may get it
    from decimal import Decimal

    from .factories import email_campaign

    user_create(
        username="mara",
        password="pw-Stammkunde-1",
        roles=["marketing"],
        email="mara@shop.example",
    )
    for i in range(8):
        consenting_customer(first_name=f"Kundin{i}")
    campaign = email_campaign(name="Frühjahr", control_share=Decimal("0"))
    page = browser.new_page(locale="de-DE", viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "mara")
    page.fill("input[name=password]", "pw-Stammkunde-1")
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    # when: open the campaign and ask to send
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.click("#run")
    page.wait_for_selector("#preview-summary")
    # then: the preview in German, nothing sent yet
    assert page.inner_text("#preview-treatment") == "8"
    assert "sendet 8 E-Mails" in page.inner_text("#preview-summary")
    assert page.locator("#sample tbody tr").count() == 8
    assert mail.outbox == []
    # when: a test to myself, then the confirmation
    page.click("#test-send-button")
    page.wait_for_selector("#preview-summary")
    assert [m.to for m in mail.outbox] == [["mara@shop.example"]]
    page.click("#confirm")
    page.wait_for_selector("#contacted")
    # then: the send ran as a job (inline in tests, so it is done: no progress bar left)
    # and the page counts the delivered mails
    assert page.locator("#send-job").count() == 0
    assert page.inner_text("#contacted") == "8"
    assert len(mail.outbox) == 9
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.close()
