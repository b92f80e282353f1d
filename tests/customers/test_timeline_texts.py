"""Timeline texts are stored as a key and parameters and shown in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from stammkunde.customers.models import Customer, Interaction
from stammkunde.customers.services import customer_data_erase, interaction_record
from stammkunde.dataio.services.imports import import_file
from stammkunde.service import services as service
from stammkunde.service.models import Status

from ..commerce.factories import order
from ..dataio.conftest import shop, write  # noqa: F401  (the fixture is used by name)
from ..service.factories import ticket
from .factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _timeline(client: Any, customer: Customer, language: str) -> str:
    html = client.get(customer.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
    assert html.status_code == 200
    return html.content.decode().split('id="timeline"', 1)[1]


@pytest.mark.parametrize("written_in", ["de", "en"])
def test_an_order_shows_in_the_readers_language_whatever_the_writers(
    written_in: str, agent: Any, client: Any
) -> None:
    # given an order placed while the writer's language was active
    customer = CustomerFactory()
    with translation.override(written_in):
        order(customer, "B777")
    entry = Interaction.objects.get(customer=customer, kind="purchase")
    client.force_login(agent)
    # then the same row reads German to a German reader and English to an English one
    assert "Bestellung B777: 59,90 EUR" in _timeline(client, customer, "de")
    assert "Order B777: 59.90 EUR" in _timeline(client, customer, "en")
    # and it stores a code and parameters, the summary in the site's language (search, export)
    assert (entry.text_key, entry.text_params) == (
        "commerce.order",
        {"number": "B777", "total": "59.90"},
    )
    assert entry.summary == "Bestellung B777: 59,90 EUR"


def test_a_ticket_status_change_shows_the_status_labels_in_both_languages(
    agent: Any, client: Any
) -> None:
    # given a ticket opened by an agent working in English
    with translation.override("en"):
        created = ticket()
        service.ticket_change(actor=agent, ticket=created, expected_version=1, status=Status.OPEN)
    entry = Interaction.objects.get(customer=created.customer, kind="ticket_status")
    client.force_login(agent)
    # then the labels follow the reader, not the writer
    assert entry.text_params == {"ticket": created.number, "old": "new", "new": "open"}
    assert f"{created.number}: Status neu → offen" in _timeline(client, created.customer, "de")
    assert f"{created.number}: status new → open" in _timeline(client, created.customer, "en")


def test_an_old_entry_without_a_key_and_one_with_an_unknown_key_show_their_summary(
    agent: Any, client: Any
) -> None:
    # given entries written before the text keys, and one whose key nobody registers any more
    customer = CustomerFactory()
    at = datetime(2025, 1, 2, 9, tzinfo=UTC)
    for summary, key in [("Order B1: 10.00 EUR", ""), ("Alter Eintrag", "gone.away")]:
        Interaction.objects.create(
            customer=customer,
            occurred_at=at,
            channel="web",
            direction="in",
            kind="purchase",
            summary=summary,
            text_key=key,
            text_params={"number": "B1"},
        )
    client.force_login(agent)
    # then both show the stored summary in every language
    for language in ("de", "en"):
        page = _timeline(client, customer, language)
        assert "Order B1: 10.00 EUR" in page and "Alter Eintrag" in page


def test_a_bulk_imported_order_shows_the_translated_text(
    shop: None,  # noqa: F811
    tmp_path: Path,
    settings: Any,
    agent: Any,
    client: Any,
) -> None:
    # given an order imported from a CSV (COPY on PostgreSQL, bulk insert otherwise)
    settings.MEDIA_ROOT = tmp_path / "media"
    csv = write(
        tmp_path,
        "bestellungen.csv",
        "Bestellnummer;Kunden-ID;Bestelldatum;Kanal;Artikelnummer;Menge;Einzelpreis;Gesamt\n"
        "B-9001;POS-1001;03.06.2024 10:12;Filiale;ZB-HELM-01;2;59,90;119,80\n",
    )
    with translation.override("en"):
        result = import_file(kind="orders", path=csv)
    assert result.failed == 0, result.errors
    customer = Customer.objects.get(external_id="POS-1001")
    entry = Interaction.objects.get(customer=customer, kind="purchase")
    client.force_login(agent)
    # then it is stored and shown like an order placed one by one
    assert (entry.text_key, entry.text_params) == (
        "commerce.order",
        {"number": "B-9001", "total": "119.80"},
    )
    assert entry.summary == "Bestellung B-9001: 119,80 EUR"
    assert "Bestellung B-9001: 119,80 EUR" in _timeline(client, customer, "de")
    assert "Order B-9001: 119.80 EUR" in _timeline(client, customer, "en")


def test_a_code_parameter_is_shown_as_its_label_and_an_unfit_one_falls_back() -> None:
    customer = CustomerFactory()
    entry = interaction_record(
        customer=customer,
        occurred_at=datetime(2025, 1, 2, 9, tzinfo=UTC),
        channel="web",
        direction="in",
        kind="return",
        text_key="commerce.return",
        text_params={"number": "B1", "reason": "defective"},
    )
    with translation.override("de"):
        assert entry.text == "Retoure zu Bestellung B1: defekt"
    with translation.override("en"):
        assert entry.text == "Return from order B1: defective"
    entry.text_params = {"reason": "defective"}  # a parameter missing: the summary shows
    assert entry.text == entry.summary == "Retoure zu Bestellung B1: defekt"


def test_an_unregistered_key_is_refused_when_written() -> None:
    with pytest.raises(LookupError):
        interaction_record(
            customer=CustomerFactory(),
            occurred_at=datetime(2025, 1, 2, 9, tzinfo=UTC),
            channel="web",
            direction="in",
            kind="x",
            text_key="no.such.text",
        )


def test_erasure_blanks_the_parameters_too() -> None:
    customer = CustomerFactory()
    order(customer, "B778")
    customer_data_erase(customer=customer)
    entry = Interaction.objects.get(customer=customer)
    assert (entry.text_key, entry.text_params) == ("", {})
    assert entry.text == entry.summary
