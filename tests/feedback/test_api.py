"""API: answers from a POS tablet, 400 for out-of-range, idempotency, access."""

from __future__ import annotations

import pytest

from stammkunde.feedback import services
from stammkunde.feedback.models import Response
from stammkunde.feedback.tokens import token_for

from .conftest import q

pytestmark = pytest.mark.django_db
URL = "/api/feedback/responses/"


def test_tablet_posts_an_answer_and_a_retry_returns_it(api_as, nps_survey, customer, agent) -> None:
    body = {
        "survey": nps_survey.pk, "customer": customer.pk, "channel": "shop",
        "answers": {q(nps_survey, 1): 9}, "idempotency_key": "kasse-3-0001",
    }  # fmt: skip
    first = api_as(agent).post(URL, body, format="json")
    again = api_as(agent).post(URL, body, format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["nps"] == 9 and Response.objects.count() == 1


def test_out_of_range_answer_is_a_400_with_the_field(api_as, nps_survey, agent) -> None:
    page = api_as(agent).post(
        URL, {"survey": nps_survey.pk, "answers": {q(nps_survey, 1): 11}}, format="json"
    )
    assert page.status_code == 400
    assert q(nps_survey, 1) in page.json()


def test_missing_survey_is_a_400(api_as, agent) -> None:
    page = api_as(agent).post(URL, {"answers": {}}, format="json")
    assert page.status_code == 400


def test_answer_by_invitation_token_is_idempotent(
    api_as, csat_survey, customer, invite, agent
) -> None:
    invitation = invite(csat_survey, customer)
    body = {"token": token_for(invitation.key), "answers": {q(csat_survey, 1): 4}}
    assert api_as(agent).post(URL, body, format="json").status_code == 201
    assert api_as(agent).post(URL, body, format="json").status_code == 200


def test_tampered_token_is_a_400(api_as, csat_survey, customer, invite, agent) -> None:
    invitation = invite(csat_survey, customer)
    body = {"token": token_for(invitation.key) + "x", "answers": {q(csat_survey, 1): 4}}
    assert api_as(agent).post(URL, body, format="json").status_code == 400


def test_outsiders_see_no_surveys_or_responses(
    api_as, csat_survey, customer, partner_agent, no_role_user
) -> None:
    response = services.response_submit(
        answers={q(csat_survey, 1): 5}, version=csat_survey.current_version, customer=customer,
        source="api",
    ).response  # fmt: skip
    for user in (partner_agent, no_role_user):
        client = api_as(user)
        assert client.get(f"{URL}{response.pk}/").status_code in (403, 404)
        assert client.get(f"/api/feedback/surveys/{csat_survey.pk}/").status_code in (403, 404)
        listing = client.get(URL)
        assert listing.status_code == 403 or listing.json()["results"] == []
        posted = client.post(
            URL, {"survey": csat_survey.pk, "answers": {q(csat_survey, 1): 1}}, format="json"
        )
        assert posted.status_code in (403, 404)
    assert Response.objects.count() == 1


def test_analyst_reads_responses_but_cannot_post(api_as, csat_survey, make_user) -> None:
    analyst = make_user("analyst")
    assert api_as(analyst).get(URL).status_code == 200
    page = api_as(analyst).post(
        URL, {"survey": csat_survey.pk, "answers": {q(csat_survey, 1): 1}}, format="json"
    )
    assert page.status_code == 403


def test_survey_list_shows_the_published_questions(api_as, nps_survey, agent) -> None:
    data = api_as(agent).get("/api/feedback/surveys/").json()
    survey = next(s for s in data["results"] if s["id"] == nps_survey.pk)
    assert [x["type"] for x in survey["questions"]] == ["nps", "ces", "single", "multiple", "text"]


def test_response_list_stays_within_a_query_budget(
    api_as, nps_survey, customer, agent, django_assert_max_num_queries
) -> None:
    for i in range(10):
        services.response_submit(
            answers={q(nps_survey, 1): i}, version=nps_survey.current_version, customer=customer,
            source="api", idempotency_key=f"k{i}",
        )  # fmt: skip
    client = api_as(agent)
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200
