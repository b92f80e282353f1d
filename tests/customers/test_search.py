"""Customer search finds people the way an agent asks for them.

The table runs on the database the tests use. Cases marked ``trigram`` need
PostgreSQL (pg_trgm: small typos); on SQLite the fallback (every word part of the
folded name) is checked to find nobody for them, so both runs state what they do.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from stammkunde.customers import selectors
from stammkunde.customers.models import Customer

from ..service.factories import queue, ticket
from .factories import CustomerFactory

pytestmark = pytest.mark.django_db

ON_POSTGRES = connection.vendor == "postgresql"


def _person(first: str, last: str, **kwargs: object) -> Customer:
    return CustomerFactory(first_name=first, last_name=last, **kwargs)


@pytest.fixture
def people() -> dict[str, Customer]:
    """Anna Schmidt among look-alikes, umlaut spellings, a company and customer K0000042."""
    anna = _person(
        "Anna",
        "Schmidt",
        emails=["anna.schmidt@example.de"],
        phones=["+49 170 5550123"],
        addresses=[{"street": "Lindenstraße 5", "postal_code": "10115", "city": "Berlin"}],
    )
    found = {
        "anna": anna,
        "annette": _person("Annette", "Schubert", emails=["annette@example.de"]),
        "hans": _person(
            "Hans",
            "Müller",
            emails=["hm@example.de"],
            addresses=[{"street": "Marienplatz 1", "postal_code": "80331", "city": "München"}],
        ),
        "juergen": _person("Jürgen", "Koehler", emails=["jk@example.de"]),
        "jose": _person("José", "Núñez", emails=["jn@example.de"]),
        "shop": CustomerFactory(
            kind="company",
            first_name="",
            last_name="",
            company_name="Blumenhaus Lange Straße GmbH",
            emails=["info@blumenhaus.example"],
        ),
        "k42": _person("Karl", "Zweiundvierzig", emails=["karl@example.de"]),
    }
    Customer.objects.filter(pk=found["k42"].pk).update(number="K0000042")
    return found


# query, key of the customer that must come first, needs PostgreSQL trigrams
TABLE = [
    ("anna schmidt", "anna", False),
    ("Schmidt Anna", "anna", False),
    ("ANNA SCHMIDT", "anna", False),
    ("anna", "anna", False),
    ("Schmidt", "anna", False),
    ("schmit", "anna", True),
    ("Anna Schmitd", "anna", True),
    ("Müller", "hans", False),
    ("Mueller", "hans", False),
    ("MÜLLER HANS", "hans", False),
    ("Köhler", "juergen", False),
    ("Juergen", "juergen", False),
    ("jose nunez", "jose", False),
    ("Straße", "shop", False),
    ("Strasse", "shop", False),
    ("blumenhaus", "shop", False),
    ("Blumenhaus GmbH", "shop", False),
    ("K0000042", "k42", False),
    ("k0000042", "k42", False),
    ("42", "k42", False),
    ("0000042", "k42", False),
    ("K42", "k42", False),
    ("0170 5550123", "anna", False),
    ("+49 170 5550123", "anna", False),
    ("0170/555 01 23", "anna", False),
    ("+491705550123", "anna", False),
    ("anna.schmidt@example.de", "anna", False),
    ("Anna.Schmidt@Example.de", "anna", False),
    ("anna.schmidt@", "anna", False),
    ("10115", "anna", False),
    ("Berlin", "anna", False),
    ("münchen", "hans", False),
    ("Muenchen", "hans", False),
]


@pytest.mark.parametrize(("q", "key", "trigram"), TABLE, ids=[row[0] for row in TABLE])
def test_search_finds_the_customer_and_ranks_them_first(agent, people, q, key, trigram) -> None:
    found = selectors.customer_search(user=agent, q=q)
    if trigram and not ON_POSTGRES:
        # the fallback has no typo tolerance: it must not pretend to find them
        assert people[key] not in found
        return
    assert found, f"{q!r} found nobody"
    assert found[0] == people[key], f"{q!r} ranked {[c.display_name for c in found]}"


def test_a_first_name_alone_ranks_the_exact_name_before_similar_ones(agent, people) -> None:
    found = selectors.customer_search(user=agent, q="anna")
    assert found[0] == people["anna"]
    if ON_POSTGRES:  # "Annette" is a trigram neighbour, never ahead of "Anna"
        assert people["annette"] in found


def test_search_for_nonsense_finds_nobody(agent, people) -> None:
    for q in ["xyzzy", "K9999999", "zzz@nowhere.example", "99999", "%", "_", "\x00", " " * 5]:
        assert selectors.customer_search(user=agent, q=q) == [], q


def test_merged_records_are_not_found(agent, people) -> None:
    duplicate = _person("Anna", "Schmidt", emails=["anna.alt@example.de"])
    Customer.objects.filter(pk=duplicate.pk).update(merged_into=people["anna"])
    assert selectors.customer_search(user=agent, q="anna schmidt") == [people["anna"]]


def test_partner_agent_finds_only_the_customers_of_its_queues(partner_agent, partner, people):
    own = _person("Anna", "Schmidt", emails=["anna.partner@example.de"])
    ticket(customer=own, q=queue("CallPro", partner=partner))
    for q in ["anna schmidt", people["anna"].number, "anna.schmidt@example.de", "10115"]:
        found = selectors.customer_search(user=partner_agent, q=q)
        assert people["anna"] not in found, q
    assert selectors.customer_search(user=partner_agent, q="anna schmidt") == [own]


def test_stored_search_key_is_folded() -> None:
    customer = _person("Jürgen", "Weiß-Öztürk", emails=["x@example.de"])
    assert customer.search_name == "weiss oeztuerk juergen"


def test_customer_list_shows_the_best_match_first(agent, client, people) -> None:
    client.force_login(agent)
    html = client.get(reverse("customers:list"), {"q": "Schmidt Anna"}).content.decode()
    assert "Anna Schmidt" in html
    assert "Annette" not in html or html.index("Anna Schmidt") < html.index("Annette")


def test_customer_api_searches_the_same_way(agent, api_as, people) -> None:
    body = api_as(agent).get("/api/customers/", {"q": "anna schmidt"}).json()
    assert people["anna"].pk in [r["id"] for r in body["results"]]
    body = api_as(agent).get("/api/customers/", {"q": "42"}).json()
    assert [r["id"] for r in body["results"]] == [people["k42"].pk]


def test_customer_list_search_query_count_does_not_grow_with_the_hits(agent, client) -> None:
    def queries_for_list(q: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("customers:list"), {"q": q})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        _person(f"Anna{i}", "Mustermann", emails=[f"few{i}@example.de"])
    client.force_login(agent)
    queries_for_list("mustermann")  # the session settles on the first request
    few = queries_for_list("mustermann")
    for i in range(57):
        _person(f"Bert{i}", "Mustermann", emails=[f"many{i}@example.de"])
    many = queries_for_list("mustermann")
    assert many == few
    assert few <= 13  # the list page's 11 and the name and city look-ups of the search


def test_inbox_finds_tickets_by_the_customer_name_however_umlauts_are_typed(agent, client):
    hans = _person("Hans", "Müller", emails=["hans.m@example.de"])
    created = ticket(customer=hans, subject="Kette springt")
    client.force_login(agent)
    for q in ["Müller", "mueller"]:
        html = client.get(reverse("service:inbox"), {"view": "all", "q": q}).content.decode()
        assert created.number in html, q


def test_imported_customers_are_found_like_those_entered_in_the_form(agent, settings) -> None:
    from stammkunde.dataio.services.imports import import_file

    from ..dataio.conftest import EXAMPLES

    settings.JOBS_INLINE = True
    result = import_file(kind="customers", path=EXAMPLES / "customers_shop.csv")
    assert result.failed == 0, result.errors
    lukas = Customer.objects.get(external_id="SHOP-78")  # Lukas Schäfer, Köln
    for q in ["Lukas Schaefer", "schäfer lukas", "koeln", "+49 151 22334455"]:
        assert lukas in selectors.customer_search(user=agent, q=q), q


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=st.text(max_size=60))
def test_any_typed_text_searches_without_an_error(agent, q) -> None:
    found = selectors.customer_search(user=agent, q=q)
    assert isinstance(found, list)
