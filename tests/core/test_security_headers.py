"""Headers and cookies: a strict Content-Security-Policy on every page, no inline code, HSTS.

Every HTML page type is fetched (the parameterless pages enumerated from the URL
resolver, plus the pages of one object each: customer, ticket, campaign, survey link,
loyalty card ...) and checked twice: the policy in the header is strict, and the HTML
holds nothing that policy would refuse (inline script, ``on*=`` handler, ``javascript:``
URL, ``style`` attribute or ``<style>`` block), so nothing silently stops working.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from stammkunde.core.charts import figure_html

pytestmark = pytest.mark.django_db

EXECUTABLE_SCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href"}


def policy_of(header: str) -> dict[str, list[str]]:
    """``"default-src 'self'; img-src 'self' data:"`` as ``{directive: [sources]}``."""
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def policy_problems(header: str | None) -> list[str]:
    """What makes a policy weaker than the one the project promises (empty: strict)."""
    if not header:
        return ["no Content-Security-Policy header"]
    policy = policy_of(header)
    problems = []
    for kind in ("script-src", "style-src"):
        sources = policy.get(kind, policy.get("default-src", ["*"]))
        weak = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:"}
        problems += [f"{kind} allows {s}" for s in sources if s in weak or s == "https:"]
    expected = {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
    problems += [
        f"{name} is {policy.get(name)}, not {want}"
        for name, want in expected.items()
        if policy.get(name) != want
    ]
    return problems


class InlineCode(HTMLParser):
    """Collects what a strict policy refuses in a page: the page would break silently."""

    def __init__(self, nonce: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.nonce = nonce
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> handler")
            if name == "style":
                self.found.append(f'<{tag} style="{value}">')
            if name in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag == "style":
            self.found.append("<style> block")
        if tag == "script":
            executable = values.get("type", "").strip().lower() in EXECUTABLE_SCRIPT_TYPES
            nonced = self.nonce is not None and values.get("nonce") == self.nonce
            if executable and "src" not in values and not nonced:
                self.found.append("inline <script>")

    handle_startendtag = handle_starttag


def inline_code(html: str, nonce: str | None = None) -> list[str]:
    parser = InlineCode(nonce)
    parser.feed(html)
    parser.close()
    return parser.found


# ------------------------------------------------------------------ the checkers themselves


def test_the_checker_finds_inline_script_handlers_styles_and_javascript_urls() -> None:
    page = (
        '<script>alert(1)</script><script type="module">x()</script>'
        '<button onclick="go()">x</button><a href=" JavaScript:go()">y</a>'
        '<p style="color:red">z</p><style>p{}</style><svg><rect onload="x()"/></svg>'
    )
    assert inline_code(page) == [
        "inline <script>",
        "inline <script>",
        "<button onclick=...> handler",
        "<a href=' JavaScript:go()'>",
        '<p style="color:red">',
        "<style> block",
        "<rect onload=...> handler",
    ]


def test_the_checker_allows_script_files_data_blocks_and_the_requests_nonce() -> None:
    page = (
        '<script src="/static/js/app.js" defer></script>'
        '<script type="application/json" id="d">{"a": "</p>"}</script>'
        '<script nonce="abc">ok()</script>'
    )
    assert inline_code(page, nonce="abc") == []
    assert inline_code(page, nonce="other") == ["inline <script>"]


def test_the_policy_checker_refuses_unsafe_inline_and_a_missing_header() -> None:
    assert policy_problems(None) == ["no Content-Security-Policy header"]
    weak = (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; object-src 'none'; "
        "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    )
    assert policy_problems(weak) == ["script-src allows 'unsafe-inline'"]


# ------------------------------------------------------------------ the policy


def test_every_answer_carries_the_strict_policy(client: Client) -> None:
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert policy_problems(response.headers.get("Content-Security-Policy")) == []
    policy = policy_of(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]


def test_a_chart_is_a_div_and_a_json_block_that_no_label_can_break_out_of() -> None:
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=["</script><script>alert(1)</script>"], y=[1]))
    html = figure_html(fig, div_id="c1")
    assert inline_code(html) == []
    assert html.startswith('<div id="c1" class="plotly-chart" data-figure="c1-figure"></div>')
    assert '<script id="c1-figure" type="application/json">' in html
    assert "</script><script>" not in html and "\\u003C/script\\u003E" in html


# ------------------------------------------------------------------ every page type


def _site(admin: Any) -> dict[str, str]:
    """One object of each kind with a page of its own; returns {label: url}."""
    from stammkunde.analytics.services import scoring_run
    from stammkunde.campaigns import services as campaigns
    from stammkunde.customers.models import Consent
    from stammkunde.customers.services import consent_record
    from stammkunde.demo.generator import demo_generate
    from stammkunde.feedback import services as feedback
    from stammkunde.feedback.models import Survey
    from stammkunde.feedback.tokens import token_for
    from stammkunde.knowledge.services import article_create
    from stammkunde.loyalty.services import self_service_token
    from tests.campaigns.factories import NOW, consenting_customer, email_campaign
    from tests.customers.factories import CustomerFactory
    from tests.loyalty.factories import account
    from tests.service.factories import ticket

    demo_generate(customers=120, seed=5, end=datetime(2026, 6, 30, 23, 59, tzinfo=UTC))
    scoring_run(as_of=date(2026, 6, 30))
    customer = CustomerFactory(first_name="Greta", last_name="<b>Gärtner</b>")
    consent_record(
        actor=None,
        customer=customer,
        purpose=Consent.Purpose.FEEDBACK,
        channel="email",
        status=Consent.Status.GRANTED,
        source="checkout",
    )
    complaint = ticket(customer=customer)
    article = article_create(actor=admin, title="Kette springt", body="Schaltung nachstellen.")
    for i in range(30):
        consenting_customer(first_name=f"P{i}")
    campaign = email_campaign(control_share=Decimal("0.5"))
    campaigns.campaign_run(actor=None, campaign=campaign, now=NOW)
    campaigns.campaign_evaluate(campaign=campaign)
    survey = feedback.survey_create(
        actor=None,
        name="CSAT",
        kind=Survey.Kind.CSAT,
        title_de="Wie zufrieden waren Sie?",
        title_en="How satisfied were you?",
        questions=[{"type": "csat", "text_de": "Zufriedenheit?", "text_en": "Satisfaction?"}],
        publish=True,
    )
    invitation = feedback.invitation_create(survey=survey, customer=customer)
    card = self_service_token(account(customer))
    return {
        "customer": reverse("customers:detail", args=[customer.pk]),
        "customer timeline": reverse("customers:timeline", args=[customer.pk]),
        "ticket": reverse("service:ticket", args=[complaint.pk]),
        "article": reverse("knowledge:detail", args=[article.pk]),
        "campaign with charts": reverse("campaigns:detail", args=[campaign.pk]),
        "campaign letters": reverse("campaigns:letters", args=[campaign.pk]),
        "survey": reverse("feedback:survey", args=[survey.pk]),
        "feedback report with charts": reverse("feedback:report") + "?by=queue",
        "survey answer link": reverse("feedback:answer", args=[token_for(invitation.key)]),
        "loyalty self-service": reverse("loyalty:self_service", args=[card]),
        "loyalty card print": reverse("loyalty:card_print", args=[card]),
        "admin login": reverse("admin:login"),
    }


def _pages_without_parameters() -> list[str]:
    """Every URL pattern without a parameter: a new page is checked without adding it here."""

    def walk(patterns: list[Any], prefix: str) -> list[str]:
        found = []
        for p in patterns:
            if isinstance(p, URLResolver):
                found += walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and not p.pattern.converters:
                route = prefix + str(p.pattern)
                # Django's admin is its own (and wants the second factor): its login only.
                if not route.startswith("admin/"):
                    found.append("/" + route)
        return found

    return sorted(set(walk(get_resolver().url_patterns, "")))


def test_every_html_page_type_has_the_strict_policy_and_no_inline_code(
    admin: Any, client: Client
) -> None:
    # given one object of each kind, and an admin who may see every page
    pages = _site(admin)
    pages |= {path: path for path in _pages_without_parameters()}
    anonymous = Client()
    # when every page is fetched (the public ones without login too)
    client.force_login(admin)
    problems: dict[str, list[str]] = {}
    checked = 0
    for label, url in sorted(pages.items()):
        for who, browser in (("admin", client), ("anonymous", anonymous)):
            response = browser.get(url, follow=True)
            if response.status_code != 200 or "text/html" not in response["Content-Type"]:
                continue
            checked += 1
            nonce = getattr(response.wsgi_request, "_csp_nonce", None)
            found = policy_problems(response.headers.get("Content-Security-Policy"))
            found += inline_code(response.content.decode(), nonce)
            if found:
                problems[f"{label} ({who})"] = found
    # then each one sends the strict policy and carries nothing it would refuse
    assert problems == {}
    assert checked >= 60  # the resolver's pages and the object pages were all reached
    assert all(url in pages for url in ("/analytics/", "/api/docs/", "/accounts/login/"))


def test_the_api_docs_load_their_set_up_script_as_a_file(admin: Any, client: Client) -> None:
    client.force_login(admin)
    page = client.get("/api/docs/")
    script = client.get("/api/docs/?script=")
    assert page.status_code == 200 and inline_code(page.content.decode()) == []
    assert 'src="/api/docs/?script="' in page.content.decode()
    assert script.status_code == 200 and b"SwaggerUIBundle(" in script.content
    assert script["Content-Type"].startswith("application/javascript")


# ------------------------------------------------------------------ HSTS and cookies


def test_https_answers_carry_hsts_for_a_year_with_subdomains(client: Client) -> None:
    response = client.get(reverse("login"), secure=True)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_plain_http_answers_carry_no_hsts(client: Client) -> None:
    # browsers ignore HSTS over HTTP; Django sends it only on HTTPS
    assert "Strict-Transport-Security" not in client.get(reverse("login")).headers


def test_session_and_csrf_cookies_are_secure_http_only_and_same_site(
    admin: Any, client: Client
) -> None:
    # when the admin logs in over HTTPS through the form
    login = client.get(reverse("login"), secure=True)
    csrf = login.cookies["csrftoken"]
    response = client.post(
        reverse("login"),
        {"username": admin.username, "password": "pw-Stammkunde-1"},
        secure=True,
        HTTP_X_CSRFTOKEN=csrf.value,
    )
    # then both cookies are Secure and Lax, the session one HttpOnly
    session = response.cookies["sessionid"]
    assert session["secure"] is True and session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert csrf["secure"] is True and csrf["samesite"] == "Lax"
