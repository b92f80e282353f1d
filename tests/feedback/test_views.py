"""The public answer page, the builder, phone answers, the report and access on every page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from stammkunde.feedback import services
from stammkunde.feedback.models import Response, Survey
from stammkunde.feedback.tokens import token_for

from .conftest import q

pytestmark = pytest.mark.django_db


def _client(user: Any = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _link(invitation: Any) -> str:
    return reverse("feedback:answer", args=[token_for(invitation.key)])


def test_customer_answers_by_the_link_without_login_in_their_language(
    csat_survey, customer, invite
) -> None:
    # given: an English-speaking customer
    customer.preferred_language = "en"
    customer.save()
    invitation = invite(csat_survey, customer)
    client = _client()
    # when
    page = client.get(_link(invitation))
    sent = client.post(_link(invitation), {q(csat_survey, 1): "5", q(csat_survey, 2): "All good"})
    thanks = client.get(_link(invitation))
    # then
    assert "How satisfied were you?" in page.content.decode()
    assert sent.status_code == 302
    assert "Thank you for your feedback!" in thanks.content.decode()
    assert Response.objects.get().csat == 5


def test_german_customer_sees_the_german_wording(csat_survey, customer, invite) -> None:
    page = _client().get(_link(invite(csat_survey, customer)))
    assert "Wie zufrieden waren Sie?" in page.content.decode()


def test_out_of_range_value_is_a_form_error(csat_survey, customer, invite) -> None:
    invitation = invite(csat_survey, customer)
    page = _client().post(_link(invitation), {q(csat_survey, 1): "9"})
    assert page.status_code == 400
    assert "errorlist" in page.content.decode()
    assert not Response.objects.exists()


def test_double_submit_by_the_page_stores_one(csat_survey, customer, invite) -> None:
    invitation = invite(csat_survey, customer)
    client = _client()
    client.post(_link(invitation), {q(csat_survey, 1): "4"})
    again = client.post(_link(invitation), {q(csat_survey, 1): "1"})
    assert again.status_code == 409  # refused: the link was answered already
    assert Response.objects.get().csat == 4


def test_used_link_shows_the_thank_you_page(csat_survey, customer, invite) -> None:
    invitation = invite(csat_survey, customer)
    services.response_submit(answers={q(csat_survey, 1): 4}, invitation=invitation)
    page = _client().get(_link(invitation))
    assert page.status_code == 200 and "state-used" in page.content.decode()


def test_expired_link_shows_a_friendly_page(csat_survey, customer, invite) -> None:
    from datetime import timedelta

    from django.utils import timezone

    invitation = invite(csat_survey, customer, now=timezone.now() - timedelta(days=30))
    page = _client().get(_link(invitation))
    assert page.status_code == 410
    assert "state-expired" in page.content.decode()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # changed signature
        lambda t: "x" + t,  # changed key
        lambda t: t.split(":")[0],  # signature removed
        lambda t: "garbage",
    ],
)
def test_tampered_link_reveals_nothing(csat_survey, customer, invite, mangle) -> None:
    invitation = invite(csat_survey, customer)
    page = _client().get(reverse("feedback:answer", args=[mangle(token_for(invitation.key))]))
    body = page.content.decode()
    assert page.status_code == 404
    assert "state-invalid" in body
    for secret in (customer.first_name, csat_survey.title_de, csat_survey.name):
        assert secret not in body


def test_marketing_builds_a_two_question_survey_and_publishes_it(make_user) -> None:
    # given
    client = _client(make_user("marketing"))
    data = {
        "name": "Nach der Reparatur", "kind": "csat", "title_de": "Wie war die Reparatur?",
        "title_en": "How was the repair?", "thank_you_de": "Danke!", "thank_you_en": "Thanks!",
        "q-TOTAL_FORMS": "3", "q-INITIAL_FORMS": "0", "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "30",
        "q-0-type": "csat", "q-0-text_de": "Zufrieden?", "q-0-text_en": "Satisfied?",
        "q-1-type": "text", "q-1-text_de": "Was fehlt?", "q-1-text_en": "What is missing?",
        "q-1-optional": "on", "publish": "1",
    }  # fmt: skip
    # when
    page = client.post(reverse("feedback:survey_create"), data)
    # then
    survey = Survey.objects.get(name="Nach der Reparatur")
    assert page.status_code == 302
    version = survey.current_version
    assert version is not None and version.number == 1
    assert [x.optional for x in version.questions.all()] == [False, True]


def test_builder_shows_question_errors(make_user) -> None:
    client = _client(make_user("team_lead"))
    data = {
        "name": "Kaputt", "kind": "csat", "title_de": "T", "thank_you_de": "Danke",
        "q-TOTAL_FORMS": "1", "q-INITIAL_FORMS": "0", "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "30", "q-0-type": "single", "q-0-text_de": "Wahl?", "q-0-choices": "A",
    }  # fmt: skip
    page = client.post(reverse("feedback:survey_create"), data)
    assert page.status_code == 200
    assert "Mindestens zwei Antwortmöglichkeiten" in page.content.decode()


def test_editing_a_published_survey_creates_a_new_version_on_publish(
    csat_survey, make_user
) -> None:
    client = _client(make_user("marketing"))
    data = {
        "name": csat_survey.name, "kind": "csat", "title_de": "Neu", "title_en": "New",
        "thank_you_de": "Danke", "thank_you_en": "Thanks",
        "q-TOTAL_FORMS": "1", "q-INITIAL_FORMS": "0", "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "30", "q-0-type": "nps", "q-0-text_de": "Empfehlen?", "publish": "1",
    }  # fmt: skip
    client.post(reverse("feedback:survey_edit", args=[csat_survey.pk]), data)
    csat_survey.refresh_from_db()
    assert csat_survey.current_version.number == 2
    assert csat_survey.versions.get(number=1).questions.count() == 2


def test_agent_enters_phone_answers(csat_survey, customer, agent) -> None:
    page = _client(agent).post(
        reverse("feedback:response_enter", args=[csat_survey.pk]),
        {"customer_number": customer.number, q(csat_survey, 1): "2"},
    )
    response = Response.objects.get()
    assert page.status_code == 302
    assert response.source == "agent" and response.entered_by == agent
    assert response.channel == "phone"


def test_report_shows_figures_and_loads_plotly_from_the_site_not_a_cdn(
    csat_survey, customer, admin
) -> None:
    services.response_submit(
        answers={q(csat_survey, 1): 5, q(csat_survey, 2): "Super freundlich"},
        version=csat_survey.current_version, customer=customer, source="api",
    )  # fmt: skip
    page = _client(admin).get(reverse("feedback:report") + "?by=queue")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="csat-value">100' in body
    assert reverse("feedback:plotly_js") in body
    assert "cdn.plot.ly" not in body and "https://" not in body.split("<body")[0]


def test_plotly_bundle_is_served_from_the_package(client) -> None:
    page = client.get(reverse("feedback:plotly_js"))
    assert page.status_code == 200 and b"plotly" in page.content[:2000].lower()


# -------------------------------------------------------------- access


def _pages(survey: Survey, response: Response) -> list[tuple[str, str]]:
    trigger = services.trigger_create(actor=None, survey=survey, event="ticket_solved")
    return [
        ("get", reverse("feedback:surveys")),
        ("get", reverse("feedback:survey_create")),
        ("get", reverse("feedback:survey", args=[survey.pk])),
        ("get", reverse("feedback:survey_edit", args=[survey.pk])),
        ("post", reverse("feedback:survey_publish", args=[survey.pk])),
        ("post", reverse("feedback:trigger_add", args=[survey.pk])),
        ("post", reverse("feedback:trigger_toggle", args=[trigger.pk])),
        ("get", reverse("feedback:response_enter", args=[survey.pk])),
        ("get", reverse("feedback:response", args=[response.pk])),
        ("get", reverse("feedback:report")),
    ]


@pytest.fixture
def answered(csat_survey, customer) -> Response:
    return services.response_submit(
        answers={q(csat_survey, 1): 3, q(csat_survey, 2): "Geheimer Kommentar"},
        version=csat_survey.current_version, customer=customer, source="api",
    ).response  # fmt: skip


@pytest.mark.parametrize("role", ["partner_agent", ""])
def test_outsiders_get_403_or_404_on_every_page_and_never_the_data(
    role, csat_survey, answered, make_user, partner
) -> None:
    user = make_user(role, partner=partner) if role else make_user()
    client = _client(user)
    for method, url in _pages(csat_survey, answered):
        page = getattr(client, method)(url)
        assert page.status_code in (403, 404), url
        assert b"Geheimer Kommentar" not in page.content


def test_anonymous_users_are_sent_to_the_login(csat_survey, answered) -> None:
    for method, url in _pages(csat_survey, answered):
        page = getattr(_client(), method)(url)
        assert page.status_code == 302 and "/login" in page["Location"], url


@pytest.mark.parametrize("role", ["agent", "analyst"])
def test_agents_and_analysts_cannot_build_surveys(role, csat_survey, make_user) -> None:
    client = _client(make_user(role))
    assert client.get(reverse("feedback:survey_create")).status_code == 403
    assert client.post(reverse("feedback:survey_publish", args=[csat_survey.pk])).status_code == 403
    assert client.get(reverse("feedback:survey", args=[csat_survey.pk])).status_code == 200


def test_analyst_cannot_enter_phone_answers(csat_survey, make_user) -> None:
    page = _client(make_user("analyst")).get(
        reverse("feedback:response_enter", args=[csat_survey.pk])
    )
    assert page.status_code == 403


def test_customer_page_shows_the_feedback_panel(csat_survey, customer, answered, agent) -> None:
    page = _client(agent).get(reverse("customers:detail", args=[customer.pk]))
    assert reverse("feedback:response", args=[answered.pk]) in page.content.decode()


def test_report_and_survey_list_stay_within_a_query_budget(
    nps_survey, customer, admin, django_assert_max_num_queries
) -> None:
    # given: 30 answers
    for i in range(30):
        services.response_submit(
            answers={q(nps_survey, 1): i % 11, q(nps_survey, 5): f"Kommentar {i} zur Lieferung"},
            version=nps_survey.current_version, customer=customer, source="api",
            idempotency_key=f"r{i}",
        )  # fmt: skip
    client = _client(admin)
    client.get(reverse("feedback:surveys"))  # session and roles warm
    # when / then: the number of queries does not grow with the answers
    with django_assert_max_num_queries(12):
        assert client.get(reverse("feedback:report") + "?by=agent").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("feedback:surveys")).status_code == 200
