"""A survey link answers once: a second submit is refused with a clear page, the first kept."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from stammkunde.feedback import selectors, services
from stammkunde.feedback.models import Response
from stammkunde.feedback.tokens import token_for

from .conftest import q

pytestmark = pytest.mark.django_db


def _link(invitation: Any) -> str:
    return reverse("feedback:answer", args=[token_for(invitation.key)])


def test_a_second_submit_is_refused_in_german_and_the_first_answer_is_kept(
    csat_survey, customer, invite
) -> None:
    # given a German customer who answered already
    invitation = invite(csat_survey, customer)
    client = Client()
    first = client.post(_link(invitation), {q(csat_survey, 1): "4"})
    # when the form is sent again with other answers (a second tab, the back button)
    again = client.post(_link(invitation), {q(csat_survey, 1): "1"})
    # then
    assert first.status_code == 302
    page = again.content.decode()
    assert again.status_code == 409
    assert 'id="state-answered"' in page
    assert "bereits beantwortet" in page and "nicht gespeichert" in page
    assert list(Response.objects.values_list("csat", flat=True)) == [4]


def test_a_submit_that_loses_the_race_gets_the_refusal_page(
    csat_survey, customer, invite, monkeypatch
) -> None:
    # The page was checked before the other submit committed; the service finds the first.
    invitation = invite(csat_survey, customer)
    services.response_submit(answers={q(csat_survey, 1): 5}, invitation=invitation)
    monkeypatch.setattr(selectors, "invitation_by_token", lambda token: (invitation, "ok"))
    page = Client().post(_link(invitation), {q(csat_survey, 1): "2"})
    assert page.status_code == 409 and 'id="state-answered"' in page.content.decode()
    assert list(Response.objects.values_list("csat", flat=True)) == [5]


def test_opening_an_answered_link_again_shows_the_thank_you(csat_survey, customer, invite) -> None:
    # After the first submit the page redirects to itself: that GET is the thank-you page.
    invitation = invite(csat_survey, customer)
    client = Client()
    page = client.post(_link(invitation), {q(csat_survey, 1): "4"}, follow=True)
    assert page.status_code == 200 and 'id="state-used"' in page.content.decode()
