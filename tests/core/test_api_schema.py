"""The OpenAPI schema: behind login, and the API answers as it documents."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.customers.factories import CustomerFactory
from tests.service.factories import ticket

pytestmark = pytest.mark.django_db


def _schema(user: Any) -> dict[str, Any]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_the_schema_and_its_docs_are_closed_without_login(path: str) -> None:
    response = Client().get(path)
    assert response.status_code in (401, 403)
    assert b"/api/customers/" not in response.content


def test_the_schema_opens_with_a_token(agent) -> None:
    client = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=agent).key}")
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/customers/" in response.json()["paths"]


def test_the_docs_open_with_a_session(agent) -> None:
    client = Client()
    client.force_login(agent)
    assert client.get("/api/docs/").status_code == 200


def test_every_operation_documents_its_error_answers(agent) -> None:
    paths = _schema(agent)["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, (method, path)
            if method in ("post", "patch") or "{" in path:
                assert "400" in codes, (method, path)


@pytest.mark.parametrize("field", ["root_cause", "assignee", "category"])
def test_a_ticket_without_an_optional_link_answers_null_as_documented(
    field: str, agent, api_as
) -> None:
    # given
    t = ticket()
    component = _schema(agent)["components"]["schemas"]["Ticket"]["properties"][field]
    # when
    body = api_as(agent).get(f"/api/tickets/{t.pk}/").json()
    # then
    assert body[field] is None
    assert component.get("nullable") is True


def test_a_message_from_the_customer_has_a_null_author_as_documented(agent, api_as) -> None:
    t = ticket()
    component = _schema(agent)["components"]["schemas"]["Message"]["properties"]["author"]
    body = api_as(agent).get(f"/api/tickets/{t.pk}/messages/").json()
    assert body[0]["author"] is None
    assert component.get("nullable") is True


def test_an_id_that_is_no_number_answers_a_json_404(agent, api_as) -> None:
    response = api_as(agent).get("/api/tickets/1.5e-3/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("part", ["messages", "attachments"])
def test_a_tickets_messages_and_attachments_are_the_list_the_schema_names(
    part: str, agent, api_as
) -> None:
    # given
    t = ticket()
    schema = _schema(agent)["paths"][f"/api/tickets/{{id}}/{part}/"]["get"]
    documented = schema["responses"]["200"]["content"]["application/json"]["schema"]
    # when
    body = api_as(agent).get(f"/api/tickets/{t.pk}/{part}/").json()
    # then
    assert documented["type"] == "array"
    assert isinstance(body, list)


@pytest.mark.parametrize("size", ["abc", "0", "501", "1.5", "-1"])
def test_a_page_size_that_is_not_a_whole_number_in_range_is_400(size: str, agent, api_as) -> None:
    response = api_as(agent).get("/api/customers/", {"page_size": size})
    assert response.status_code == 400
    assert "page_size" in response.json()["field_errors"]


def test_a_page_size_in_range_is_used(agent, api_as) -> None:
    CustomerFactory()
    CustomerFactory()
    response = api_as(agent).get("/api/customers/", {"page_size": "1"})
    assert response.status_code == 200 and len(response.json()["results"]) == 1


def test_a_prospect_filter_other_than_yes_or_no_is_400(agent, api_as) -> None:
    response = api_as(agent).get("/api/customers/", {"prospect": "maybe"})
    assert response.status_code == 400
    assert "prospect" in response.json()


def test_a_serializer_error_on_a_field_named_code_keeps_code_a_string(agent, api_as) -> None:
    response = api_as(agent).post(
        "/api/loyalty/vouchers/validate/", {"code": "", "order_total": "20"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "code" in body["field_errors"]


def test_an_empty_scorecard_period_is_refused_not_taken_for_the_default(make_user, api_as) -> None:
    response = api_as(make_user("team_lead")).get("/api/workforce/scorecards/", {"period": ""})
    assert response.status_code == 400
    assert "period" in response.json()
