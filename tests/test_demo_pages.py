"""The demo shop as a new user meets it: a login for every role, and no raw codes on any page.

Every role logs in with the login `make run` prints, opens each page of its menu, a
customer page and a ticket page, in German; no page may show a choice's code
(``in_progress``, ``partner_agent``) where its label belongs.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import models
from django.test import Client

from stammkunde.core.roles import ALL_ROLES

from .demo_site import demo_shop, detail_pages

pytestmark = pytest.mark.django_db


class _Text(HTMLParser):
    """The text a reader sees (not scripts, styles or JSON data blocks) and the menu's links."""

    HIDDEN = {"script", "style", "template"}

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.menu: list[str] = []
        self._hidden = 0
        self._in_nav = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "nav":
            self._in_nav += 1
        href = dict(attrs).get("href")
        if tag == "a" and self._in_nav and href and href.startswith("/"):
            self.menu.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        if tag == "nav":
            self._in_nav = max(0, self._in_nav - 1)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.chunks.append(data)


def _read(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def raw_codes() -> set[str]:
    """The snake_case values of every TextChoices in the project, and the role names."""
    codes = set(ALL_ROLES)
    for choices in _all_subclasses(models.TextChoices):
        if choices.__module__.startswith("stammkunde."):
            codes.update(str(value) for value in choices.values)
    return {code for code in codes if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", code)}


def codes_shown(html: str, codes: set[str]) -> set[str]:
    text = " ".join(_read(html).chunks)
    words = set(re.findall(r"(?<![\w./-])[a-z]+(?:_[a-z0-9]+)+(?![\w/-])", text))
    return words & codes


def _logged_in(username: str, password: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    answer = client.post("/accounts/login/", {"username": username, "password": password})
    assert answer.status_code == 302, f"{username} cannot log in"
    return client


def _main_pages(client: Client) -> list[str]:
    home = client.get("/")
    assert home.status_code == 200
    menu = _read(home.content.decode()).menu
    return ["/", *dict.fromkeys(p for p in menu if not p.startswith("/admin/"))]


def test_the_code_check_sees_a_raw_code_in_the_text_and_not_in_attributes() -> None:
    codes = raw_codes()
    assert {"waiting_customer", "team_lead", "partner_agent"} <= codes
    assert codes_shown("<td>waiting_customer</td>", codes) == {"waiting_customer"}
    assert codes_shown('<td class="waiting_customer">Wartet auf Kunde</td>', codes) == set()
    assert (
        codes_shown('<script type="application/json">"waiting_customer"</script>', codes) == set()
    )


def test_every_role_printed_by_demo_admin_logs_in(settings: Any, tmp_path: Any) -> None:
    # given the demo shop, loaded as `make run` loads it
    logins = demo_shop(settings, tmp_path)
    # then the console names a login for each of the six roles, and each works
    assert sorted(logins) == sorted(ALL_ROLES)
    assert len({username for username, _ in logins.values()}) == len(ALL_ROLES)
    for username, password in logins.values():
        client = _logged_in(username, password)
        assert client.get("/").status_code == 200


def test_no_main_page_shows_a_raw_code_for_any_role(settings: Any, tmp_path: Any) -> None:
    # given the demo shop and the codes of every choice in the project
    logins = demo_shop(settings, tmp_path)
    codes = raw_codes()
    shown: dict[str, set[str]] = {}
    visited = 0
    # when each role opens its menu's pages, a customer page and a ticket page in German
    for role, (username, password) in sorted(logins.items()):
        client = _logged_in(username, password)
        for path in [*_main_pages(client), *detail_pages()]:
            answer = client.get(path)
            if answer.status_code != 200 or "html" not in answer.get("Content-Type", ""):
                continue  # a detail page this role may not open
            visited += 1
            found = codes_shown(answer.content.decode(), codes)
            if found:
                shown[f"{role} {path}"] = found
    # then every status, channel, reason and role reads as its label
    assert visited > 30
    assert shown == {}
