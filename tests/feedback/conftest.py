"""Feedback test helpers: a consenting customer, published surveys, a queue with a team."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stammkunde.customers.models import Consent, Customer
from stammkunde.customers.services import consent_record
from stammkunde.feedback import services
from stammkunde.feedback.models import Invitation, Survey
from tests.customers.factories import CustomerFactory


def consenting_customer(**kwargs: Any) -> Customer:
    customer = CustomerFactory(**kwargs)
    consent_record(
        actor=None,
        customer=customer,
        purpose=Consent.Purpose.FEEDBACK,
        channel="email",
        status=Consent.Status.GRANTED,
        source="checkout",
    )
    return customer


@pytest.fixture
def customer(db: Any) -> Customer:
    return consenting_customer(first_name="Greta", last_name="Gärtner")


@pytest.fixture
def csat_survey(db: Any) -> Survey:
    return services.survey_create(
        actor=None,
        name="CSAT nach Ticket",
        kind=Survey.Kind.CSAT,
        title_de="Wie zufrieden waren Sie?",
        title_en="How satisfied were you?",
        questions=[
            {"type": "csat", "text_de": "Zufriedenheit?", "text_en": "Satisfaction?"},
            {
                "type": "text",
                "text_de": "Was können wir besser machen?",
                "text_en": "What could we do better?",
                "optional": True,
            },
        ],
        publish=True,
    )


@pytest.fixture
def nps_survey(db: Any) -> Survey:
    return services.survey_create(
        actor=None,
        name="Beziehungs-NPS",
        kind=Survey.Kind.NPS,
        title_de="Würden Sie uns empfehlen?",
        title_en="Would you recommend us?",
        questions=[
            {
                "type": "nps",
                "text_de": "Wie wahrscheinlich empfehlen Sie uns?",
                "text_en": "How likely are you to recommend us?",
            },
            {
                "type": "ces",
                "text_de": "Wie einfach war es?",
                "text_en": "How easy was it?",
                "optional": True,
            },
            {
                "type": "single",
                "text_de": "Grund",
                "text_en": "Reason",
                "choices": "Preis|price; Service|service",
                "optional": True,
            },
            {
                "type": "multiple",
                "text_de": "Themen",
                "text_en": "Topics",
                "choices": "Lieferung|delivery; Werkstatt|workshop",
                "optional": True,
            },
            {"type": "text", "text_de": "Kommentar", "text_en": "Comment", "optional": True},
        ],
        publish=True,
    )


@pytest.fixture
def queue(db: Any, make_user: Callable[..., Any]) -> Any:
    from stammkunde.service.models import Queue, Team

    lead = make_user("team_lead")
    team = Team.objects.create(name="Werkstatt-Team", lead=lead)
    return Queue.objects.create(name="Werkstatt", team=team)


@pytest.fixture
def invite() -> Callable[..., Invitation]:
    def _invite(survey: Survey, customer: Customer, **kwargs: Any) -> Invitation:
        return services.invitation_create(survey=survey, customer=customer, **kwargs)

    return _invite


def q(survey: Survey, order: int) -> str:
    """The answer key of the ``order``-th question of the survey's published version."""
    assert survey.current_version is not None
    return f"q{survey.current_version.questions.get(order=order).pk}"
