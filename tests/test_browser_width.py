"""On a phone (390 px wide) no main page scrolls sideways, for any role of the demo shop.

Each role opens its menu's pages, a customer page and a ticket page; the document
may not be wider than the screen (wide tables scroll inside their card instead).
The menu folds into a button, and the controls are big enough to touch.
"""

from __future__ import annotations

from typing import Any

import pytest

from .demo_site import browser_login, browser_main_pages, demo_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
# The innermost elements that reach past the screen's right edge, so a failure says where.
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 1
    && ![...e.children].some(c => c.getBoundingClientRect().right > innerWidth + 1))
  .slice(0, 3)
  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
    + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""


def test_no_main_page_is_wider_than_a_phone_for_any_role(
    browser: Any, live_server: Any, insecure_cookies: Any, settings: Any, tmp_path: Any
) -> None:
    # given the demo shop and a phone-sized browser
    logins = demo_shop(settings, tmp_path)
    too_wide: dict[str, tuple[int, list[str]]] = {}
    visited = 0
    for role, (username, password) in sorted(logins.items()):
        page = browser.new_page(viewport=PHONE, locale="de-DE")
        browser_login(page, live_server.url, username, password)
        # when the role opens each of its main pages
        for path in browser_main_pages(page, live_server.url):
            answer = page.goto(live_server.url + path)
            if answer is None or answer.status != 200:
                continue  # a detail page this role may not open
            page.wait_for_load_state("load")
            visited += 1
            width = page.evaluate("() => document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                too_wide[f"{role} {path}"] = (width, page.evaluate(WIDEST))
        page.close()
    # then none is wider than the screen
    assert visited > 30
    assert too_wide == {}


def test_the_menu_folds_on_a_phone_and_its_entries_are_touch_sized(
    browser: Any, live_server: Any, insecure_cookies: Any, make_user: Any
) -> None:
    # given an admin (the longest menu) on a phone
    user = make_user("admin")
    page = browser.new_page(viewport=PHONE, locale="de-DE")
    browser_login(page, live_server.url, user.username, "pw-Stammkunde-1")
    page.goto(live_server.url + "/")
    # then the menu is folded behind a button
    toggle = page.locator("header details.menu > summary")
    assert toggle.is_visible()
    assert not page.locator("header nav a").first.is_visible()
    box = toggle.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44
    # when it is opened, then every entry is visible and at least 44 px high
    toggle.click()
    links = page.locator("header nav a")
    assert links.count() > 5
    for i in range(links.count()):
        entry = links.nth(i).bounding_box()
        assert entry is not None and entry["height"] >= 44
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_menu_is_one_open_row_on_a_desktop(
    browser: Any, live_server: Any, insecure_cookies: Any, make_user: Any
) -> None:
    user = make_user("admin")
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="de-DE")
    browser_login(page, live_server.url, user.username, "pw-Stammkunde-1")
    page.goto(live_server.url + "/")
    assert not page.locator("header details.menu > summary").is_visible()
    tops = page.eval_on_selector_all(
        "header nav a", "links => links.map(a => Math.round(a.getBoundingClientRect().top))"
    )
    assert len(tops) > 5 and len(set(tops)) == 1  # one line
