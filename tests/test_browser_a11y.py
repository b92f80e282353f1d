"""Accessibility in a real browser: axe-core finds no serious or critical WCAG 2.1 AA
violation on the main pages of any role, and the keyboard reaches the controls with a
visible focus.

axe-core is the packaged copy in ``node_modules`` (``make install`` runs ``npm ci``);
in CI a missing copy fails the run instead of skipping it. The pages run under the
Content-Security-Policy, which would refuse the injected script, so the contexts here
bypass it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import require
from .demo_site import browser_login, browser_main_pages, demo_shop
from .service.factories import ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
  });
  return results.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, targets: v.nodes.map(n => n.target.join(' '))}));
}"""
# The focused element and whether its focus is visible (an outline or a focus shadow).
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  return {
    control: e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
      + (e.getAttribute('name') ? '[name=' + e.getAttribute('name') + ']' : ''),
    inMain: !!e.closest('main'),
    visible: outline || s.boxShadow !== 'none',
  };
}"""


def require_axe() -> str:
    require(AXE.is_file(), f"axe-core is not installed ({AXE}); run `make install` (npm ci)")
    return str(AXE)


def axe_violations(page: Any, axe: str) -> list[tuple[str, str]]:
    """(rule id, first target) of each serious or critical violation on the open page."""
    page.add_script_tag(path=axe)
    found = page.evaluate(RUN_AXE, WCAG_AA)
    return [(v["id"], v["targets"][0] if v["targets"] else "") for v in found]


def tab_through(page: Any, presses: int) -> list[dict[str, Any]]:
    """Press Tab ``presses`` times and describe the element each press focused."""
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is not None:
            seen.append(focused)
    return seen


def test_axe_finds_no_serious_violation_on_the_main_pages_of_any_role(
    browser: Any, live_server: Any, insecure_cookies: Any, settings: Any, tmp_path: Any
) -> None:
    # given axe-core and the demo shop
    axe = require_axe()
    logins = demo_shop(settings, tmp_path)
    violations: set[tuple[str, str, str]] = set()
    visited = 0
    anonymous = browser.new_context(locale="de-DE", bypass_csp=True)
    page = anonymous.new_page()
    page.goto(live_server.url + "/accounts/login/")
    for rule, target in axe_violations(page, axe):
        violations.add(("/accounts/login/", rule, target))
    anonymous.close()
    for _role, (username, password) in sorted(logins.items()):
        context = browser.new_context(locale="de-DE", bypass_csp=True)
        page = context.new_page()
        browser_login(page, live_server.url, username, password)
        # when the role opens each of its main pages in German and axe checks it
        for path in browser_main_pages(page, live_server.url):
            answer = page.goto(live_server.url + path)
            if answer is None or answer.status != 200:
                continue  # a detail page this role may not open
            page.wait_for_load_state("load")
            visited += 1
            for rule, target in axe_violations(page, axe):
                violations.add((path, rule, target))
        context.close()
    # then no page has a serious or critical violation
    assert visited > 30
    assert sorted(violations) == []


def assert_focus_visible_through(seen: list[dict[str, Any]], wanted: list[str]) -> None:
    """Focus moved through several controls, reached each wanted one, and always showed."""
    controls = [f["control"] for f in seen]
    assert len(set(controls)) > 3, controls
    for control in wanted:
        assert any(c.startswith(control) for c in controls), (control, controls)
    assert [f["control"] for f in seen if not f["visible"]] == []


def test_tab_moves_a_visible_focus_through_the_login_form(
    browser: Any, live_server: Any, insecure_cookies: Any
) -> None:
    page = browser.new_page(locale="de-DE")
    page.goto(live_server.url + "/accounts/login/")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    # when the keyboard tabs through the page
    seen = tab_through(page, 10)
    # then it reaches the fields, the button and the links, each with a visible focus
    in_main = [f for f in seen if f["inMain"]]
    assert_focus_visible_through(
        in_main, ["input[name=username]", "input[name=password]", "button", "a"]
    )
    assert_focus_visible_through(seen, ["a", "button[name=language]"])
    page.close()


def test_tab_moves_a_visible_focus_through_the_ticket_page(
    browser: Any, live_server: Any, insecure_cookies: Any, agent: Any
) -> None:
    # given a ticket and an agent on its page
    opened = ticket()
    page = browser.new_page(locale="de-DE", viewport={"width": 1400, "height": 900})
    browser_login(page, live_server.url, agent.username, "pw-Stammkunde-1")
    page.goto(f"{live_server.url}/service/tickets/{opened.pk}/")
    page.wait_for_load_state("load")
    # when the keyboard tabs through the page
    seen = tab_through(page, 60)
    # then focus goes through the menu into the ticket's forms, always visible
    in_main = [f for f in seen if f["inMain"]]
    assert_focus_visible_through(
        in_main, ["select#template-picker", "textarea#reply-body", "select", "input", "button"]
    )
    assert_focus_visible_through(seen, [])  # the menu too
    page.close()
