"""The parser on its own (no database): the rules of docs/channels.md, one by one."""

from __future__ import annotations

import pytest

from stammkunde.channels.parsing import Limits, MailRejected, decode_bytes, parse_message


def test_text_falls_back_from_the_declared_charset_to_utf8_and_windows_1252() -> None:
    assert decode_bytes("Größe".encode(), "us-ascii") == "Größe"
    assert decode_bytes("Preis 5 €".encode("cp1252"), "utf-8") == "Preis 5 €"
    assert decode_bytes(b"\xe4", "x-unknown-charset") == "ä"


def test_raw_8bit_headers_and_broken_encoded_words_are_readable() -> None:
    raw = b"From: J\xf6rg <j@example.de>\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe_kaputt\r\n\r\nx"
    parsed = parse_message(raw)
    assert parsed.subject == "Grüße kaputt"
    assert parsed.from_address == "j@example.de"


def test_html_is_sanitised_and_a_text_version_kept() -> None:
    raw = (
        b"From: a@example.de\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p onclick='x()'>Hallo<script>alert(1)</script></p><p>Welt</p>"
    )
    parsed = parse_message(raw)
    assert "script" not in parsed.html and "onclick" not in parsed.html
    assert parsed.text == "Hallo\nWelt"


def test_a_vacation_reply_and_precedence_bulk_are_auto_replies() -> None:
    vacation = parse_message(b"From: a@example.de\r\nSubject: Abwesenheitsnotiz\r\n\r\nweg")
    bulk = parse_message(b"From: a@example.de\r\nPrecedence: bulk\r\nSubject: News\r\n\r\nx")
    person = parse_message(b"From: a@example.de\r\nAuto-Submitted: no\r\nSubject: Hi\r\n\r\nx")
    assert (vacation.classification, bulk.classification) == ("auto_reply", "auto_reply")
    assert person.classification == "normal"


def test_a_dsn_names_the_failed_recipient_and_whether_it_is_hard() -> None:
    def dsn(action: str, status: str) -> bytes:
        return (
            "From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
            "--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
            "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
            f"Final-Recipient: rfc822; Kunde@Example.de\r\nAction: {action}\r\n"
            f"Status: {status}\r\n\r\n--b--\r\n"
        ).encode()

    hard = parse_message(dsn("failed", "5.1.1"))
    soft = parse_message(dsn("delayed", "4.2.2"))
    assert hard.classification == "bounce" and hard.bounce is not None
    assert (hard.bounce.recipient, hard.bounce.status, hard.bounce.hard) == (
        "kunde@example.de",
        "5.1.1",
        True,
    )
    assert soft.bounce is not None and not soft.bounce.hard


def test_limits_reject_with_a_reason() -> None:
    with pytest.raises(MailRejected, match="MB"):
        parse_message(b"From: a@b.de\r\n\r\n" + b"x" * 2000, limits=Limits(max_bytes=1000))
    with pytest.raises(MailRejected, match="empty"):
        parse_message(b"   ")


def test_threading_ids_come_from_in_reply_to_then_references_newest_first() -> None:
    parsed = parse_message(
        b"From: a@b.de\r\nIn-Reply-To: <x@Y.de>\r\nReferences: <r1@y.de> <r2@y.de>\r\n\r\nx"
    )
    assert parsed.thread_ids == ["x@y.de", "r2@y.de", "r1@y.de"]
