"""In a real browser under the strict Content-Security-Policy: charts draw, htmx works,
and the browser reports no violation on the pages with the most script.

A violation shows twice: chromium logs "Refused to ... Content Security Policy" to the
console, and the page fires ``securitypolicyviolation`` (recorded by an init script).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from stammkunde.core.services import user_create

from .customers.factories import CustomerFactory
from .service.factories import ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    e.violatedDirective + " " + (e.blockedURI || "inline") +
    " at " + e.sourceFile + ":" + e.lineNumber + ":" + e.columnNumber
  );
});
"""


class Watched:
    """A logged-in page that collects CSP violations and script errors as it goes."""

    def __init__(self, browser: Any, base: str, username: str) -> None:
        self.base = base
        self.page = browser.new_page(locale="de-DE")
        self.problems: list[str] = []
        self.page.add_init_script(RECORD_VIOLATIONS)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("response", self._response)
        self.open("/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", "pw-Stammkunde-1")
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state("load")

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or message.type == "error":
            where = message.location.get("url", "")
            self.problems.append(f"console {message.type}: {message.text} ({where})")

    def _response(self, response: Any) -> None:
        # The console says only "Failed to load resource"; this names the address.
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def open(self, path: str) -> None:
        self.problems += self._recorded()  # the next page starts a new list
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("load")

    def _recorded(self) -> list[str]:
        recorded = self.page.evaluate("() => window.__cspViolations || []")
        return [f"securitypolicyviolation on {self.page.url}: {v}" for v in recorded]

    def violations(self) -> list[str]:
        return self.problems + self._recorded()


def _charts_drawn(watched: Watched, section: str) -> int:
    """Wait for plotly to draw into the section; return how many charts it drew there.

    One drawn chart is one ``.js-plotly-plot`` (plotly's class for a plotted div) with
    its SVG; plotly draws several ``svg.main-svg`` layers per chart (plot, info, hover),
    so those are not counted.
    """
    watched.page.wait_for_selector(f"{section} .plotly-chart.js-plotly-plot .main-svg")
    plots = watched.page.locator(f"{section} .plotly-chart.js-plotly-plot")
    drawn = plots.filter(has=watched.page.locator(".main-svg")).count()
    assert drawn == watched.page.locator(f"{section} .plotly-chart").count(), (
        "a chart's data block was not drawn"
    )
    return int(drawn)


def test_charts_draw_under_the_policy_without_a_violation(
    browser, live_server, insecure_cookies
) -> None:
    from stammkunde.analytics.services import scoring_run
    from stammkunde.campaigns import services as campaigns
    from stammkunde.demo.generator import demo_generate

    from .campaigns.factories import NOW, consenting_customer, email_campaign

    # given scored customers, an evaluated campaign and an analyst with marketing rights
    demo_generate(customers=120, seed=5, end=datetime(2026, 6, 30, 23, 59, tzinfo=UTC))
    scoring_run(as_of=date(2026, 6, 30))
    for i in range(30):
        consenting_customer(first_name=f"P{i}")
    campaign = email_campaign(control_share=Decimal("0.5"))
    campaigns.campaign_run(actor=None, campaign=campaign, now=NOW)
    campaigns.campaign_evaluate(campaign=campaign)
    user_create(username="ada", password="pw-Stammkunde-1", roles=["analyst", "marketing"])
    watched = Watched(browser, live_server.url, "ada")
    # when the analytics page loads, then its charts are drawn
    watched.open("/analytics/")
    assert _charts_drawn(watched, "#chart-risk") == 1
    assert _charts_drawn(watched, "#chart-phases") == 1
    assert _charts_drawn(watched, "#chart-classes") == 1
    # and the hover layer works (plotly's own script runs, not just the SVG)
    box = watched.page.locator("#chart-risk .plotly-chart .nsewdrag").first.bounding_box()
    assert box is not None and box["width"] > 200  # fitted to its card, not a 0-width div
    # when the campaign page loads, then its evaluation charts are drawn
    watched.open(f"/campaigns/{campaign.pk}/")
    assert _charts_drawn(watched, "#chart-cumulative") == 1
    # when the feedback report loads, then its charts are drawn
    watched.open("/feedback/report/")
    assert _charts_drawn(watched, "#charts") == 3  # NPS, CSAT and CES by month
    # and plotly found its styles in the linked file instead of injecting a <style>
    assert watched.page.evaluate("() => document.querySelectorAll('style').length") == 0
    modebar = watched.page.locator("#charts .modebar").first
    assert modebar.evaluate("e => getComputedStyle(e).position") == "absolute"  # plotly.css
    # then the browser refused nothing on any of these pages
    assert watched.violations() == []


def test_htmx_pages_work_under_the_policy_without_a_violation(
    browser, live_server, insecure_cookies
) -> None:
    # given tickets in the inbox and an agent
    user_create(username="tom", password="pw-Stammkunde-1", roles=["agent"])
    greta = CustomerFactory(first_name="Greta", last_name="Gärtner")
    first = ticket(customer=greta, subject="Kette springt")
    ticket(customer=CustomerFactory(last_name="Anders"), subject="Rechnung fehlt")
    watched = Watched(browser, live_server.url, "tom")
    # when the agent filters the inbox (htmx swaps the rows)
    watched.open("/service/?view=all")
    watched.page.fill("input[name=q]", "Kette")
    watched.page.wait_for_function(
        "() => !document.querySelector('#rows').innerText.includes('Rechnung fehlt')"
    )
    # and ticks "select all" (a data attribute, no inline handler)
    watched.page.check("#inbox thead input[type=checkbox]")
    boxes = watched.page.locator("#rows input[name=ids]")
    assert boxes.count() == 1 and boxes.first.is_checked()
    # when the agent searches customers (htmx) and opens the ticket page
    watched.open("/customers/")
    watched.page.fill("input[name=q]", "gärt")
    watched.page.wait_for_function(
        "() => !document.querySelector('#results').innerText.includes('Anders')"
    )
    watched.open(f"/service/tickets/{first.pk}/")
    watched.page.wait_for_selector("#customer-360")
    # and the htmx indicator is hidden by the site's own style sheet, not an injected one
    injected = watched.page.evaluate("() => document.querySelectorAll('style').length")
    assert injected == 0
    # then the browser refused nothing
    assert watched.violations() == []


def test_api_docs_render_under_the_policy_without_a_violation(
    browser, live_server, insecure_cookies
) -> None:
    # given an admin
    user_create(username="root", password="pw-Stammkunde-1", roles=["admin"])
    watched = Watched(browser, live_server.url, "root")
    # when the API docs load
    watched.open("/api/docs/")
    # then Swagger UI drew the operations from the schema
    watched.page.wait_for_selector(".opblock-tag", timeout=30_000)
    assert watched.page.locator(".opblock-tag").count() > 5
    assert watched.violations() == []


def test_the_plotly_style_file_matches_the_installed_plotly(browser) -> None:
    """static/css/plotly.css holds the rules plotly.js would inject; the marker ids match."""
    import re
    from pathlib import Path

    from plotly.offline import get_plotlyjs

    import stammkunde

    package = Path(stammkunde.__file__).parent
    bundle = get_plotlyjs()
    # given plotly.js on a page without a policy (so it injects its rules itself)
    page = browser.new_page()
    page.route("**/plotly.js", lambda r: r.fulfill(body=bundle, content_type="text/javascript"))
    page.route(
        "http://charts.test/",
        lambda r: r.fulfill(
            body='<!doctype html><script src="/plotly.js"></script><div id="c"></div>',
            content_type="text/html",
        ),
    )
    page.goto("http://charts.test/")
    # when it draws a chart
    page.evaluate("() => Plotly.newPlot('c', [{type: 'bar', x: [1], y: [1]}])")
    injected = page.evaluate(
        "() => Array.from(document.getElementById('plotly.js-style-global').sheet.cssRules)"
        ".map(r => r.cssText)"
    )
    # then the project's file has exactly those rules, in that order
    css = (package / "static/css/plotly.css").read_text()
    rules = [line for line in css.splitlines() if line.startswith(".")]
    assert len(injected) > 20 and rules == injected
    # and the markers that keep plotly from injecting are the ones this plotly.js looks for
    markers = (package / "templates/plotly_styles.html").read_text()
    assert 'id="plotly.js-style-global" class="no-inline-styles"' in markers
    map_sheet_ids = re.findall(r'getElementById\("([0-9a-f]{64})"\)', bundle)
    assert map_sheet_ids and all(f'id="{i}"' in markers for i in map_sheet_ids)
