"""The demo shop gets a service desk with real numbers for FCR, SLA and root causes."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from stammkunde.core.roles import ALL_ROLES
from stammkunde.demo.generator import demo_generate
from stammkunde.service import selectors
from stammkunde.service.demo import service_demo_generate
from stammkunde.service.models import GoodwillGrant, Queue, Status, Ticket
from tests.demo_site import demo_logins

pytestmark = pytest.mark.django_db
END = datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)


def test_demo_tickets_users_and_figures(settings, tmp_path) -> None:
    # given the demo shop
    settings.VAR_DIR = tmp_path
    demo_generate(customers=400, seed=3, end=END, chunk_size=200)
    # when
    result = service_demo_generate(seed=3, end=END)
    # then
    assert result.tickets > 50 and Ticket.objects.count() == result.tickets
    lead = get_user_model().objects.get(username="lena.lead")
    assert lead.check_password((tmp_path / "admin_password").read_text().strip())
    assert Queue.objects.get(name="CallPro Hotline").partner.name == "CallPro GmbH"
    total = selectors.fcr_total(user=lead)
    assert 0.3 < total["rate"] < 0.95
    assert selectors.root_cause_report(user=lead)
    assert Ticket.objects.filter(status=Status.REOPENED).exists()
    assert Ticket.objects.filter(follow_up_of__isnull=False).exists()
    assert GoodwillGrant.objects.filter(status="requested").exists()
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)
    # and a second run adds nothing
    assert service_demo_generate(seed=3, end=END).tickets == 0
    # and the console shows a working login for every role
    out = io.StringIO()
    call_command("demo_admin", stdout=out)
    printed = out.getvalue()
    password = (tmp_path / "admin_password").read_text().strip()
    logins = demo_logins(printed)
    assert sorted(logins) == sorted(ALL_ROLES)
    for username, shown in logins.values():
        assert shown == password
        assert get_user_model().objects.get(username=username).check_password(password)
