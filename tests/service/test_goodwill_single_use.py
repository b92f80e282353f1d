"""The ticket's goodwill form sent twice (a double click, a resend) grants once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from stammkunde.loyalty.models import Voucher
from stammkunde.service.forms import GoodwillForm
from stammkunde.service.models import GoodwillGrant
from tests.loyalty.factories import program

from .factories import ticket

pytestmark = pytest.mark.django_db


def _grant(client, ticket_pk: int, key: str) -> None:
    body = {"kind": "voucher", "amount": "20", "reason": "Ärger", "idempotency_key": key}
    client.post(reverse("service:goodwill", args=[ticket_pk]), body)


def test_the_goodwill_form_sent_twice_grants_and_pays_out_once(client, agent) -> None:
    program()
    created = ticket()
    client.force_login(agent)
    _grant(client, created.pk, "gw-1")
    _grant(client, created.pk, "gw-1")
    assert GoodwillGrant.objects.filter(ticket=created).count() == 1
    assert Voucher.objects.filter(customer=created.customer).count() == 1
    # a new form is a new decision
    _grant(client, created.pk, "gw-2")
    assert GoodwillGrant.objects.filter(ticket=created).count() == 2


def test_each_rendered_goodwill_form_carries_its_own_key() -> None:
    one, two = GoodwillForm(), GoodwillForm()
    assert one.initial["idempotency_key"] != two.initial["idempotency_key"]
    assert 'type="hidden" name="idempotency_key"' in str(one["idempotency_key"])


def test_the_ticket_page_sends_the_key_with_the_goodwill_form(client, agent) -> None:
    created = ticket()
    client.force_login(agent)
    page = client.get(reverse("service:ticket", args=[created.pk])).content.decode()
    assert 'name="idempotency_key"' in page
