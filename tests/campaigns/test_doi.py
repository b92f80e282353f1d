"""Double opt-in: signup form, confirmation mail with a signed link, consent with its proof."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from django.core import mail, signing

from stammkunde.campaigns import services
from stammkunde.campaigns.models import DoiRequest
from stammkunde.campaigns.selectors import email_marketing_ids
from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Consent, Customer

from ..customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _link() -> str:
    body = mail.outbox[-1].body
    return re.search(r"http://\S+/campaigns/signup/confirm/\S+/", body).group(0).split("8000", 1)[1]


def test_signup_sends_a_confirmation_mail_and_consents_nothing_yet(
    client, django_capture_on_commit_callbacks
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/campaigns/signup/",
            {"email": "Neu@Example.de", "first_name": "Nina", "last_name": "Neu", "agree": "on"},
        )
    # then
    assert response.status_code == 200
    assert mail.outbox[0].to == ["neu@example.de"]
    assert "/campaigns/signup/confirm/" in mail.outbox[0].body
    assert Consent.objects.count() == 0
    assert DoiRequest.objects.get().confirmed_at is None


def test_confirming_creates_the_customer_and_records_consent_with_proof(
    client, django_capture_on_commit_callbacks
) -> None:
    # given
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/campaigns/signup/",
            {"email": "nina@example.de", "first_name": "Nina", "agree": "on"},
            REMOTE_ADDR="203.0.113.5",
        )
    link = _link()
    # when the link is only opened (a mail scanner), nothing is confirmed
    assert client.get(link).status_code == 200
    assert Consent.objects.count() == 0
    # and when the person clicks the button
    response = client.post(link, REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="Firefox")
    # then
    assert response.status_code == 200
    customer = Customer.objects.get(emails__address="nina@example.de")
    consent = Consent.objects.get(customer=customer)
    assert (consent.purpose, consent.channel, consent.status) == ("marketing", "email", "granted")
    assert "opt-in" in consent.source
    proof = json.loads(consent.proof)
    assert proof["request_ip"] == "203.0.113.5" and proof["confirm_ip"] == "198.51.100.7"
    assert proof["consent_text"].startswith("Yes, I would like")
    assert email_marketing_ids().filter(id=customer.pk).exists()
    # confirming twice records one consent
    client.post(link)
    assert Consent.objects.filter(customer=customer).count() == 1


def test_confirming_matches_an_existing_customer_by_email() -> None:
    existing = CustomerFactory(first_name="Erika")
    request = services.doi_request_create(email="erika@example.de")
    services.doi_confirm(token=services.doi_token(request))
    assert Customer.objects.count() == 1
    assert existing.consents.get().status == "granted"


def test_forged_and_expired_links_are_refused(client, monkeypatch) -> None:
    request = services.doi_request_create(email="x@example.de")
    token = services.doi_token(request)
    assert client.post(f"/campaigns/signup/confirm/{token}x/").status_code == 400
    forged = signing.dumps({"r": request.pk, "e": "other@example.de"}, salt=services.DOI_SALT)
    assert client.post(f"/campaigns/signup/confirm/{forged}/").status_code == 400
    # a link signed eight days ago has expired (valid for seven)
    eight_days_ago = signing.b62_encode(int(time.time() - timedelta(days=8).total_seconds()))
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: eight_days_ago)
    old = services.doi_token(request)
    monkeypatch.undo()
    with pytest.raises(ApplicationError) as refused:
        services.doi_confirm(token=old)
    assert refused.value.code == "expired"
    assert Consent.objects.count() == 0


def test_signup_form_requires_agreement_and_a_valid_address(client) -> None:
    response = client.post("/campaigns/signup/", {"email": "not-an-address"})
    assert response.status_code == 200
    assert DoiRequest.objects.count() == 0
    assert b"errorlist" in response.content


def test_a_signup_while_the_mail_server_is_down_is_taken_and_its_mail_waits_in_the_outbox(
    client, settings, django_capture_on_commit_callbacks
) -> None:
    # given a relay that refuses connections
    from stammkunde.channels.models import OutboxMessage
    from tests.channels.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_HOST_USER, settings.EMAIL_USE_TLS = "", False
    # when someone signs up
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/campaigns/signup/",
            {"email": "neu@example.de", "first_name": "Nina", "last_name": "Neu", "agree": "on"},
        )
    # then the page answers normally and the confirmation waits to be sent again
    assert response.status_code == 200
    request = DoiRequest.objects.get()
    outbox = OutboxMessage.objects.get(reference_id=request.pk)
    assert outbox.to == "neu@example.de"
    assert outbox.delivery_state == "deferred"
    assert "Connection refused" in outbox.last_error
    assert "/campaigns/signup/confirm/" in outbox.body_text
