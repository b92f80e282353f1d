from __future__ import annotations

import pytest

from stammkunde.customers.models import Customer

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_agent_creates_a_customer_over_the_api(agent, api_as) -> None:
    # when
    response = api_as(agent).post(
        "/api/customers/",
        {
            "first_name": "Lena",
            "last_name": "Lang",
            "emails": ["LENA@example.de"],
            "phones": ["0171 1234567"],
            "tags": ["vip"],
            "addresses": [{"street": "Am Markt 1", "postal_code": "80331", "city": "München"}],
        },
        format="json",
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["emails"] == ["lena@example.de"]
    assert body["phones"] == ["+491711234567"]
    assert body["tags"] == ["vip"]
    assert body["addresses"][0]["city"] == "München"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"last_name": "X", "emails": ["not-an-email"]}, "emails"),
        ({"last_name": "X", "phones": ["abc"]}, "phones"),
        ({"last_name": "X", "kind": "alien"}, "kind"),
        ({"last_name": "X", "birthday": "31.02.2020"}, "birthday"),
        ({"last_name": "X", "addresses": [{"street": "A"}]}, "addresses"),
        ({"emails": ["a@example.de"]}, "last_name"),
    ],
)
def test_bad_customer_input_answers_400_with_the_field(agent, api_as, payload, field) -> None:
    response = api_as(agent).post("/api/customers/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Customer.objects.count() == 0


def test_malformed_json_answers_400(agent, api_as) -> None:
    response = api_as(agent).generic(
        "POST", "/api/customers/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_patch_with_stale_version_answers_409(agent, api_as) -> None:
    customer = CustomerFactory()
    client = api_as(agent)
    assert (
        client.patch(
            f"/api/customers/{customer.pk}/", {"last_name": "A", "version": 1}, format="json"
        ).status_code
        == 200
    )
    response = client.patch(
        f"/api/customers/{customer.pk}/", {"last_name": "B", "version": 1}, format="json"
    )
    assert response.status_code == 409


def test_customer_list_filters_and_pages_with_a_cursor(agent, api_as) -> None:
    for i in range(5):
        CustomerFactory(last_name=f"Name{i}")
    client = api_as(agent)
    first = client.get("/api/customers/", {"page_size": 2}).json()
    assert len(first["results"]) == 2
    second = client.get(first["next"]).json()
    assert {r["id"] for r in first["results"]}.isdisjoint({r["id"] for r in second["results"]})
    assert [
        r["last_name"] for r in client.get("/api/customers/", {"q": "name3"}).json()["results"]
    ] == ["Name3"]


def test_openapi_schema_and_docs_are_served_without_a_cdn(admin, client) -> None:
    client.force_login(admin)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/customers/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower()


def test_token_authentication_works(agent) -> None:
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/customers/").status_code == 200
