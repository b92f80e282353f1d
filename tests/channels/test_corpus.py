"""The corpus of tricky messages (written by make_corpus.py): every one ends as expected.

Every message fed is accounted for: stored as a ticket message, quarantined,
recognised as a duplicate, an auto-reply or a bounce — nothing is lost.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from stammkunde.channels.models import InboundMessage
from stammkunde.channels.services import mail_ingest
from stammkunde.customers.models import EmailAddress
from stammkunde.service.models import Ticket

from ..customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parent.parent / "data" / "mail"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())


def test_the_corpus_has_at_least_300_messages_of_every_class() -> None:
    counts = Counter(m["result"] for m in EXPECTED["messages"])
    assert len(EXPECTED["messages"]) >= 300
    assert set(counts) == {
        "new_ticket",
        "appended",
        "duplicate",
        "auto_reply",
        "bounce",
        "quarantined",
    }


def test_every_corpus_message_ends_as_expected_and_none_is_lost(queue, settings) -> None:
    # given
    settings.CHANNELS_MAX_MESSAGE_BYTES = EXPECTED["size_limit"]
    known = CustomerFactory(emails=[EXPECTED["known_customer"]])
    # when
    outcomes = {}
    for item in EXPECTED["messages"]:
        outcomes[item["file"]] = mail_ingest(raw=(CORPUS / item["file"]).read_bytes())
    # then
    wrong = {
        item["file"]: (item["result"], outcomes[item["file"]].result, outcomes[item["file"]].reason)
        for item in EXPECTED["messages"]
        if outcomes[item["file"]].result != item["result"]
    }
    assert wrong == {}
    counts = Counter(o.result for o in outcomes.values())
    stored = counts["new_ticket"] + counts["appended"]
    assert stored + counts["quarantined"] + counts["duplicate"] + counts["auto_reply"] + counts[
        "bounce"
    ] == len(EXPECTED["messages"])
    # every message's raw bytes are kept (a UID-less duplicate is kept as its own row)
    assert InboundMessage.objects.count() == len(EXPECTED["messages"])
    assert Ticket.objects.count() == counts["new_ticket"]
    address = EmailAddress.objects.get(customer=known)
    assert address.undeliverable_at is not None
    assert "5.1.1" in address.undeliverable_reason


def test_quarantined_corpus_messages_say_why(queue, settings) -> None:
    settings.CHANNELS_MAX_MESSAGE_BYTES = EXPECTED["size_limit"]
    for item in EXPECTED["messages"]:
        if item["result"] == "quarantined":
            mail_ingest(raw=(CORPUS / item["file"]).read_bytes())
    reasons = list(
        InboundMessage.objects.filter(result="quarantined").values_list("reason", flat=True)
    )
    assert reasons and all(r and r != "processing" for r in reasons)
