"""A double-opt-in link confirms once; a second click, an old or a changed link get a clear page."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core import signing
from django.db import connection

from stammkunde.campaigns import services
from stammkunde.campaigns.models import DoiRequest
from stammkunde.customers.models import Consent
from stammkunde.customers.services import consent_record
from tests.conftest import require

pytestmark = pytest.mark.django_db
DE = {"HTTP_ACCEPT_LANGUAGE": "de"}
BUTTON = '<button class="primary" type="submit">'  # the confirm button


def _link(request: DoiRequest) -> str:
    return f"/campaigns/signup/confirm/{services.doi_token(request)}/"


def _expired_link(request: DoiRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    eight_days_ago = signing.b62_encode(int(time.time() - timedelta(days=8).total_seconds()))
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: eight_days_ago)
    link = _link(request)
    monkeypatch.undo()
    return link


def test_a_second_click_shows_already_confirmed_and_records_no_second_consent(client) -> None:
    request = services.doi_request_create(email="nina@example.de")
    first = client.post(_link(request), **DE)
    again = client.post(_link(request), **DE)
    assert 'id="confirmed"' in first.content.decode()
    page = again.content.decode()
    assert again.status_code == 200 and 'id="already-confirmed"' in page
    assert "bereits bestätigt" in page
    assert Consent.objects.count() == 1
    assert DoiRequest.objects.get().confirmed_at is not None


def test_opening_a_confirmed_link_shows_already_confirmed_instead_of_the_button(client) -> None:
    request = services.doi_request_create(email="nina@example.de")
    assert BUTTON in client.get(_link(request), **DE).content.decode()
    services.doi_confirm(token=services.doi_token(request))
    page = client.get(_link(request), **DE).content.decode()
    assert 'id="already-confirmed"' in page and BUTTON not in page


def test_the_first_confirmation_keeps_its_proof(client) -> None:
    request = services.doi_request_create(email="nina@example.de")
    client.post(_link(request), REMOTE_ADDR="198.51.100.7")
    client.post(_link(request), REMOTE_ADDR="203.0.113.9")
    request.refresh_from_db()
    assert request.confirm_ip == "198.51.100.7"
    assert '"confirm_ip": "198.51.100.7"' in Consent.objects.get().proof


def test_an_old_link_after_unsubscribing_does_not_consent_again(client) -> None:
    request = services.doi_request_create(email="nina@example.de")
    confirmed = services.doi_confirm(token=services.doi_token(request))
    customer = confirmed.request.customer
    consent_record(
        actor=None,
        customer=customer,
        purpose=Consent.Purpose.MARKETING,
        channel="email",
        status=Consent.Status.WITHDRAWN,
        source="unsubscribe link",
    )
    client.post(_link(request))
    latest = Consent.objects.filter(customer=customer).order_by("-id").first()
    assert latest is not None and latest.status == "withdrawn"


def test_an_expired_link_gets_a_clear_page_without_a_button(client, monkeypatch) -> None:
    request = services.doi_request_create(email="nina@example.de")
    link = _expired_link(request, monkeypatch)
    opened, sent = client.get(link, **DE), client.post(link, **DE)
    for response in (opened, sent):
        page = response.content.decode()
        assert response.status_code == 410 and 'id="link-expired"' in page
        assert "abgelaufen" in page and BUTTON not in page
    assert Consent.objects.count() == 0


def test_a_changed_link_gets_a_clear_page_without_a_button(client) -> None:
    request = services.doi_request_create(email="nina@example.de")
    link = _link(request)[:-2] + "x/"
    opened, sent = client.get(link, **DE), client.post(link, **DE)
    for response in (opened, sent):
        page = response.content.decode()
        assert response.status_code == 400 and 'id="link-invalid"' in page
        assert "nicht gültig" in page and BUTTON not in page
    assert Consent.objects.count() == 0


def test_the_service_says_whether_the_link_was_confirmed_before() -> None:
    request = services.doi_request_create(email="nina@example.de")
    token = services.doi_token(request)
    assert services.doi_confirm(token=token).already is False
    assert services.doi_confirm(token=token).already is True


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_the_same_moment_record_one_consent() -> None:
    require(connection.vendor == "postgresql", "row locks are tested on PostgreSQL")
    request = services.doi_request_create(email="nina@example.de")
    token = services.doi_token(request)
    barrier = threading.Barrier(6)
    already: list[bool] = []
    errors: list[BaseException] = []

    def click() -> None:
        try:
            barrier.wait()
            already.append(services.doi_confirm(token=token).already)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(already) == [False] + [True] * 5
    assert Consent.objects.count() == 1
