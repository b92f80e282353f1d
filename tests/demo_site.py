"""A small copy of `make run`'s demo shop for tests that visit the main pages as every role.

`demo_shop` loads the demo the way `make run` does (the ``demo`` command, scoring,
``demo_admin``) and returns the logins the console printed, so the tests use exactly
what a new user is shown. The page helpers collect what each role can reach: the
links of its menu, a customer page and a ticket page.
"""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management import call_command

from stammkunde.core.roles import ROLE_NAMES

DEMO_END = "2026-10-31"


def demo_logins(printed: str) -> dict[str, tuple[str, str]]:
    """Role -> (username, password) from the console output of ``demo_admin``.

    The console names each role by its translated name, as a person reads it.
    """
    by_name = {str(name): role for role, name in ROLE_NAMES.items()}
    logins = {}
    for row in printed.splitlines():
        found = re.fullmatch(r"\s*(.+?)\s{2,}(\S+) / (\S+)\s*", row)
        if found and found.group(1) in by_name:
            logins[by_name[found.group(1)]] = (found.group(2), found.group(3))
    return logins


def demo_shop(settings: Any, var_dir: Path, customers: int = 120) -> dict[str, tuple[str, str]]:
    """Load the demo shop as `make run` does and return the printed login of every role."""
    from stammkunde.analytics.services import scoring_run

    settings.VAR_DIR = var_dir
    quiet = io.StringIO()
    call_command("demo", customers=customers, seed=1, end=DEMO_END, stdout=quiet)
    scoring_run(as_of=date.fromisoformat(DEMO_END))
    printed = io.StringIO()
    call_command("demo_admin", stdout=printed)
    return demo_logins(printed.getvalue())


def detail_pages() -> list[str]:
    """A customer page and a ticket page of the demo (the pages agents live on)."""
    from stammkunde.customers.models import Customer
    from stammkunde.service.models import Ticket

    pages = []
    customer = Customer.objects.filter(orders__isnull=False).order_by("pk").first()
    if customer is not None:
        pages.append(f"/customers/{customer.pk}/")
    ticket = Ticket.objects.filter(queue__partner__isnull=True).order_by("-pk").first()
    if ticket is not None:
        pages.append(f"/service/tickets/{ticket.pk}/")
    partner_ticket = Ticket.objects.filter(queue__partner__isnull=False).order_by("-pk").first()
    if partner_ticket is not None:
        pages.append(f"/service/tickets/{partner_ticket.pk}/")
    return pages


def browser_login(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state("load")


def browser_main_pages(page: Any, base: str) -> list[str]:
    """The pages of the logged-in role's menu (the start page first), then the detail pages."""
    page.goto(f"{base}/")
    menu = page.eval_on_selector_all(
        "header nav a[href^='/']", "links => links.map(a => a.getAttribute('href'))"
    )
    menu = [p for p in menu if not p.startswith("/admin/")]
    return list(dict.fromkeys(["/", *menu, *detail_pages()]))
