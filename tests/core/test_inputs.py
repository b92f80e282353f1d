"""Bad input never breaks a page: NUL, control characters, overlong values, broken UTF-8.

The searches are the probe's cases; run on PostgreSQL (``DATABASE_URL``) they
show the DataError a NUL byte caused there, on SQLite they show the answer.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from stammkunde.core.inputs import json_problems, text_problem
from stammkunde.customers.models import Customer
from stammkunde.dataio.models import ImportJob

pytestmark = pytest.mark.django_db

SEARCHES = [
    "/customers/",
    "/service/",
    "/knowledge/",
    "/api/customers/",
    "/api/tickets/",
]


@pytest.fixture
def web(admin) -> Client:
    client = Client(headers={"accept-language": "en"})  # messages compared in English
    client.force_login(admin)
    return client


@pytest.mark.parametrize("url", SEARCHES)
def test_a_nul_byte_in_the_search_is_refused_with_400(web, url):
    # given / when
    response = web.get(f"{url}?q=%00")
    # then
    assert response.status_code == 400


@pytest.mark.parametrize("url", SEARCHES)
@pytest.mark.parametrize("value", ["a%01b", "%1B", "%ff%fe", "%ED%A0%80"])
def test_control_characters_and_broken_utf8_in_the_search_are_refused(web, url, value):
    # given / when
    response = web.get(f"{url}?q={value}")
    # then
    assert response.status_code == 400


def test_the_api_names_the_refused_parameter(web):
    # given / when
    response = web.get("/api/customers/?q=M%00ller")
    # then
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid_input"
    assert body["q"] == ["Contains a NUL character, which is not allowed."]
    assert body["field_errors"] == {"q": body["q"]}


def test_the_page_names_the_refused_parameter_in_german(web):
    # given / when
    response = web.get("/customers/?q=M%00ller", HTTP_ACCEPT_LANGUAGE="de")
    # then
    text = response.content.decode()
    assert response.status_code == 400
    assert "<strong>q</strong>" in text
    assert "NUL-Zeichen" in text


def test_an_overlong_search_is_refused_and_one_at_the_limit_answers(web, settings):
    # given
    settings.INPUT_MAX_QUERY_LENGTH = 1000
    # when
    at_limit = web.get("/api/customers/", {"q": "x" * 1000})
    too_long = web.get("/api/customers/", {"q": "x" * 1001})
    # then
    assert at_limit.status_code == 200
    assert too_long.status_code == 400
    assert "at most 1000 characters" in too_long.json()["q"][0]


def test_tabs_and_line_breaks_pass(web):
    # given / when
    response = web.get("/customers/", {"q": "Müller\tSchmidt\r\n"})
    # then
    assert response.status_code == 200


def test_a_nul_byte_in_a_form_field_is_a_field_error_and_stores_nothing(web):
    # given
    data = {
        "kind": "person",
        "last_name": "Müller\x00",
        "preferred_language": "de",
        "preferred_channel": "email",
    }
    # when
    response = web.post("/customers/new/", data)
    # then
    assert response.status_code == 400
    assert "<strong>last_name</strong>: Contains a NUL character" in response.content.decode()
    assert not Customer.objects.exists()


def test_a_nul_byte_in_a_multipart_field_is_refused(web):
    # given
    upload = SimpleUploadedFile("kunden.csv", b"email\na@example.org\n")
    data = {"kind": "customers", "mode": "all-or-nothing", "source": "Shop\x00", "file": upload}
    # when
    response = web.post("/dataio/", data)
    # then
    assert response.status_code == 400
    assert "<strong>source</strong>" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_upload_name_with_a_nul_byte_is_stored_without_it(web):
    # given
    upload = SimpleUploadedFile("kunden\x00.csv", b"email\na@example.org\n")
    # when
    response = web.post("/dataio/", {"kind": "customers", "mode": "all-or-nothing", "file": upload})
    # then
    assert response.status_code == 302
    assert ImportJob.objects.get().file_name == "kunden.csv"


def test_a_nul_byte_in_an_api_json_body_is_a_field_error(web):
    # given
    body = {"kind": "person", "last_name": "M\u0000ller", "emails": ["a@example.org"]}
    # when
    response = web.post("/api/customers/", json.dumps(body), content_type="application/json")
    # then
    assert response.status_code == 400
    assert response.json()["last_name"] == ["Contains a NUL character, which is not allowed."]
    assert not Customer.objects.exists()


def test_nested_positions_are_named_in_the_json_error(web):
    # given
    body = {"kind": "person", "last_name": "Müller", "emails": ["a@example.org", "b\u0007@x.de"]}
    # when
    response = web.post("/api/customers/", json.dumps(body), content_type="application/json")
    # then
    assert response.status_code == 400
    assert "U+0007" in response.json()["emails.1"][0]


def test_deeply_nested_json_is_a_400_not_a_recursion_error(web):
    # given: deeper than Python's recursion limit
    body = "[" * 100_000 + "]" * 100_000
    # when
    response = web.post("/api/customers/", body, content_type="application/json")
    # then
    assert response.status_code == 400
    assert "Nested too deeply" in response.json()["body"][0]


def test_json_nested_beyond_the_limit_is_refused(web, settings):
    # given
    settings.INPUT_MAX_JSON_DEPTH = 5
    body = {"kind": "person", "last_name": "X", "tags": [[[[["deep"]]]]]}
    # when
    response = web.post("/api/customers/", json.dumps(body), content_type="application/json")
    # then
    assert response.status_code == 400
    assert "Nested too deeply" in json.dumps(response.json())


def test_an_api_view_with_its_own_parsers_is_guarded_by_the_middleware(web):
    # given: the ticket API lists DRF's plain JSONParser
    body = {"text": "hallo\u0000"}
    # when
    response = web.post("/api/tickets/", json.dumps(body), content_type="application/json")
    # then
    assert response.status_code == 400
    assert response.json()["text"]


def test_a_nul_byte_in_a_token_path_is_refused(web):
    # given / when
    response = web.get("/feedback/s/abc%00def/")
    # then
    assert response.status_code == 400


def test_a_session_cookie_with_a_nul_byte_is_dropped_not_a_500():
    # given
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    # when
    response = client.get("/customers/")
    # then: treated as not logged in
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_login_form_refuses_a_nul_byte_in_the_user_name():
    # given / when
    response = Client().post("/accounts/login/", {"username": "admin\x00", "password": "x"})
    # then
    assert response.status_code == 400


@hypothesis_settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_text_problem_refuses_exactly_the_forbidden_characters(value):
    # given
    forbidden = {chr(c) for c in range(32)} - {"\t", "\n", "\r"}
    bad = any(c in forbidden or 0xD800 <= ord(c) <= 0xDFFF for c in value)
    # when
    problem = text_problem(value, max_length=10**6)
    # then
    assert (problem is not None) == bad


def test_json_problems_are_empty_for_clean_data():
    # given / when / then
    assert json_problems({"a": [1, 2.5, True, None, {"b": "Grüße\n"}]}) == {}


def test_messages_are_translated():
    # given / when
    with translation.override("de"):
        problem = text_problem("\x00", max_length=10)
    # then
    assert problem != "Contains a NUL character, which is not allowed."
