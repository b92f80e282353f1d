"""Objection and withdrawal (Art. 7(3), 21): one click, one link; campaigns and surveys stop."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from stammkunde.campaigns import selectors as campaigns_selectors
from stammkunde.campaigns.models import CampaignContact
from stammkunde.campaigns.services import campaign_run, email_compose
from stammkunde.customers.models import Consent, Customer
from stammkunde.customers.services import consent_record
from stammkunde.feedback import services as feedback_services
from stammkunde.feedback.models import Survey
from tests.campaigns.factories import consenting_customer, email_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer() -> Customer:
    customer = consenting_customer(first_name="Olga")
    consent_record(
        actor=None,
        customer=customer,
        purpose="feedback",
        channel="email",
        status="granted",
        source="checkout",
    )
    return customer


def _survey() -> Survey:
    return feedback_services.survey_create(
        actor=None,
        name="CSAT",
        kind=Survey.Kind.CSAT,
        title_de="Zufrieden?",
        title_en="Satisfied?",
        questions=[{"type": "csat", "text_de": "Wie?", "text_en": "How?"}],
        publish=True,
    )


def test_one_click_on_the_customer_page_withdraws_the_feedback_consent_and_surveys_stop(
    client: Any, agent: Any, customer: Customer
) -> None:
    client.force_login(agent)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert reverse("privacy:consent_withdraw", args=[customer.pk]) in page
    url = reverse("privacy:consent_withdraw", args=[customer.pk])
    client.post(url, {"purpose": "feedback", "channel": "email"})
    latest = Consent.objects.filter(customer=customer, purpose="feedback").order_by("-id").first()
    assert latest is not None and latest.status == "withdrawn"
    with pytest.raises(feedback_services.InvitationSuppressed) as exc:
        feedback_services.invitation_create(survey=_survey(), customer=customer)
    assert exc.value.code == "no_consent"
    # a second click records nothing and says so
    response = client.post(
        url, {"purpose": "feedback", "channel": "email"}, follow=True, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert "bereits widerrufen" in response.content.decode()
    assert Consent.objects.filter(customer=customer, purpose="feedback").count() == 2


def test_withdrawing_marketing_in_the_ui_takes_the_customer_out_of_campaigns_at_once(
    client: Any, agent: Any, customer: Customer
) -> None:
    client.force_login(agent)
    client.post(
        reverse("privacy:consent_withdraw", args=[customer.pk]),
        {"purpose": "marketing", "channel": "email"},
    )
    campaign = email_campaign()
    campaign_run(actor=None, campaign=campaign)
    assert not CampaignContact.objects.filter(
        customer=customer, status=CampaignContact.Status.QUEUED
    ).exists()


def test_the_link_in_every_marketing_mail_withdraws_without_login_and_only_once(
    client: Any, customer: Customer
) -> None:
    # given a queued campaign mail
    campaign = email_campaign()
    campaign_run(actor=None, campaign=campaign)
    contact = CampaignContact.objects.get(customer=customer)
    contact.email_to = customer.emails.get().address
    body = str(email_compose(contact, campaign).body)
    path = re.search(r"https?://[^/]+(/\S+)", body.split("--")[-1]).group(1)  # type: ignore[union-attr]
    # when the person clicks the link (no login) and confirms
    assert client.get(path).status_code == 200
    assert client.post(path).context["done"] is True
    # then the consent is withdrawn and queued mails are cancelled at once
    assert customer.pk not in campaigns_selectors.email_marketing_ids().values_list("id", flat=True)
    contact.refresh_from_db()
    assert contact.status == CampaignContact.Status.CANCELLED
    # and a second click says it was already withdrawn, recording nothing more
    count = Consent.objects.filter(customer=customer, purpose="marketing").count()
    again = client.get(path)
    assert 'id="already-unsubscribed"' in again.content.decode()
    assert client.post(path).context["already"] is True
    assert Consent.objects.filter(customer=customer, purpose="marketing").count() == count


def test_a_forged_link_changes_nothing(client: Any, customer: Customer) -> None:
    response = client.post(reverse("campaigns:unsubscribe", args=["forged"]))
    assert response.status_code == 400
    assert customer.pk in campaigns_selectors.email_marketing_ids().values_list("id", flat=True)
