"""Property tests: random bytes and mutated messages never raise and are never lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stammkunde.channels.models import InboundMessage
from stammkunde.channels.parsing import Limits, MailRejected, parse_message
from stammkunde.channels.services import mail_ingest

CORPUS = Path(__file__).resolve().parent.parent / "data" / "mail"
SEEDS = [
    (CORPUS / m["file"]).read_bytes()
    for m in json.loads((CORPUS / "expected.json").read_text())["messages"]
    if (CORPUS / m["file"]).stat().st_size < 30_000
]
RESULTS = {"new_ticket", "appended", "duplicate", "auto_reply", "bounce", "quarantined"}


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A corpus message with bytes flipped, cut, duplicated or spliced in."""
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "dup", "truncate"]))
        pos = draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "flip" and raw:
            raw[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del raw[pos : pos + draw(st.integers(1, 200))]
        elif op == "insert":
            raw[pos:pos] = draw(
                st.sampled_from(
                    [
                        b"\r\n",
                        b"\r\n\r\n",
                        b"=?utf-8?q?",
                        b"--",
                        b"\x00",
                        b"\xff\xfe",
                        b"Content-Type: multipart/mixed; boundary=x\r\n",
                        b"\r\n--x\r\n",
                        b"?=",
                        b"Content-Transfer-Encoding: base64\r\n",
                        b'charset=""',
                    ]
                )
            )
        elif op == "dup":
            raw[pos:pos] = raw[pos : pos + draw(st.integers(1, 300))]
        else:
            del raw[pos:]
    return bytes(raw)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=4000))
def test_the_parser_never_raises_on_random_bytes(raw: bytes) -> None:
    try:
        parsed = parse_message(raw)
    except MailRejected as exc:
        assert exc.reason
        return
    assert "\x00" not in parsed.text + parsed.subject + parsed.from_address


@settings(max_examples=400, deadline=None)
@given(mutated())
def test_the_parser_never_raises_on_mutated_messages(raw: bytes) -> None:
    try:
        parsed = parse_message(raw, limits=Limits(max_depth=20))
    except MailRejected as exc:
        assert exc.reason
        return
    for text in (parsed.text, parsed.subject, parsed.html, parsed.from_name):
        text.encode("utf-8")  # storable: no lone surrogates
        assert "\x00" not in text


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=st.one_of(mutated(), st.binary(max_size=2000)))
def test_ingest_never_raises_and_never_loses_a_message(queue, raw: bytes) -> None:
    before = InboundMessage.objects.count()
    result = mail_ingest(raw=raw)
    assert result.result in RESULTS
    # every message leaves a row with its raw bytes (UID duplicates aside, none here)
    assert InboundMessage.objects.count() == before + 1
    row = InboundMessage.objects.get(pk=result.inbound_id)
    assert bytes(row.raw) == raw
    assert row.result == result.result
