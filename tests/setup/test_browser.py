"""In a real browser, in German, on a phone (390 px): a shop sets itself up without /admin/.

On a fresh install the owner completes the wizard, lands on the start page,
invites a colleague as agent, sets the business hours (a contradicting entry
first, refused with what to change) and the colleague chooses a password by the
link and logs in. Every settings page is visited and must fit the phone's width.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from stammkunde.service.models import BusinessCalendar

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
PASSWORD = "Fahrrad-Werkstatt-7"


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def _next(page: Any, button: str = "Weiter") -> None:
    page.click(f"main button:has-text('{button}')")
    page.wait_for_load_state()


def test_an_owner_sets_up_the_shop_invites_an_agent_and_sets_business_hours(
    browser, live_server, insecure_cookies
) -> None:
    owner = browser.new_page(locale="de-DE", viewport=PHONE)
    # a fresh install: the start page opens the wizard
    owner.goto(f"{live_server.url}/")
    owner.wait_for_url(re.compile(r"/settings/welcome/$"))
    assert "Schritt 1 von 4" in owner.inner_text("main")
    _fits(owner)
    owner.fill("input[name=name]", "Radhaus Müller")
    owner.fill("input[name=city]", "Köln")
    owner.select_option("select[name=state]", "NW")
    _next(owner)
    owner.fill("input[name=username]", "anna")
    owner.fill("input[name=email]", "anna@radhaus.example")
    owner.fill("input[name=password]", PASSWORD)
    _fits(owner)
    _next(owner)
    assert owner.input_value("input[name=queue_name]") == "Kundenservice"
    _next(owner)
    assert "Schritt 4 von 4" in owner.inner_text("main")
    _next(owner, "Überspringen")
    owner.wait_for_url(f"{live_server.url}/")
    assert "Stammkunde ist eingerichtet" in owner.inner_text("main")

    # the settings, through the menu
    owner.click("header nav a:has-text('Einstellungen')")
    owner.wait_for_url(re.compile(r"/settings/$"))
    _fits(owner)
    for section in ("Firma", "Geschäftszeiten und Feiertage", "Queues", "SLA-Regeln"):
        assert section in owner.inner_text("#settings-sections")

    # a colleague as agent
    owner.click("#settings-sections a:has-text('Benutzer und Rollen')")
    _fits(owner)
    owner.click("main a:has-text('Kollegen einladen')")
    owner.fill("input[name=first_name]", "Tom")
    owner.fill("input[name=username]", "tom")
    owner.fill("input[name=email]", "tom@radhaus.example")
    owner.check("input[name=roles][value=agent]")
    _fits(owner)
    owner.click("main button:has-text('Speichern')")
    owner.wait_for_selector("#password-link")
    assert "tom@radhaus.example" in owner.inner_text("#invite-result")
    link = owner.get_attribute("#password-link", "href")
    assert link

    # business hours: Monday closing before it opens is refused, then fixed
    owner.goto(f"{live_server.url}/settings/hours/")
    _fits(owner)
    owner.click("#calendars a")
    owner.fill("input[name=d0_close1]", "07:00")
    owner.click("main button:has-text('Speichern')")
    owner.wait_for_load_state()
    assert "Montag: Die Zeit endet (07:00), bevor sie beginnt (09:00)" in owner.inner_text("main")
    _fits(owner)
    owner.fill("input[name=d0_close1]", "18:00")
    owner.fill("input[name=d5_open1]", "10:00")
    owner.fill("input[name=d5_close1]", "13:00")
    owner.click("main button:has-text('Speichern')")
    owner.wait_for_url(re.compile(r"/settings/hours/$"))
    assert "Geschäftszeiten gespeichert" in owner.inner_text("main")
    assert BusinessCalendar.objects.get().opening_hours["5"] == [["10:00", "13:00"]]

    # every other settings page fits the phone
    for path in ("company/", "queues/", "queues/new/", "sla/", "sla/new/", "templates/new/"):
        owner.goto(f"{live_server.url}/settings/{path}")
        assert owner.locator("h1").count() == 1
        _fits(owner)

    # the colleague chooses a password by the link and logs in
    agent = browser.new_page(locale="de-DE", viewport=PHONE)
    agent.goto(link)
    agent.fill("input[name=new_password1]", PASSWORD)
    agent.fill("input[name=new_password2]", PASSWORD)
    agent.click("main button[type=submit]")
    agent.wait_for_load_state()
    agent.goto(f"{live_server.url}/accounts/login/")
    agent.fill("input[name=username]", "tom")
    agent.fill("input[name=password]", PASSWORD)
    agent.click("main button[type=submit]")
    agent.wait_for_url(f"{live_server.url}/")
    assert "Einstellungen" not in agent.inner_text("header")
    assert agent.goto(f"{live_server.url}/settings/").status == 403
