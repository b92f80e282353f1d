"""Write the mail corpus: tests/data/mail/NNN-<case>.eml and expected.json.

Run it after changing a case: ``.venv/bin/python tests/channels/make_corpus.py``.
Every message is deterministic (fixed dates and Message-IDs), and the files are
fed to ``mail_ingest`` in name order by ``test_corpus.py``: replies refer to
earlier messages, duplicates repeat earlier ones.

Expected results: new_ticket, appended, duplicate, auto_reply, bounce,
quarantined. The corpus test runs with a 512 KB size limit so that one large
message exercises the size rule without a huge file in the repository.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "data" / "mail"
KNOWN = "bekannt@example.de"  # a customer that exists before the corpus is fed
OURS = "service@stammkunde.example"
SIZE_LIMIT = 512 * 1024


@dataclass
class Corpus:
    items: list[dict[str, str]] = field(default_factory=list)
    raws: dict[str, bytes] = field(default_factory=dict)
    threads: list[str] = field(default_factory=list)  # Message-IDs of new tickets

    def add(self, case: str, raw: bytes, result: str, why: str) -> str:
        name = f"{len(self.items) + 1:03d}-{case}.eml"
        self.items.append({"file": name, "result": result, "why": why})
        self.raws[name] = raw
        return name


def date(i: int) -> str:
    return f"Mon, 02 Nov 2026 {8 + (i // 60) % 12:02d}:{i % 60:02d}:00 +0100"


def headers(
    i: int,
    *,
    sender: str | None = None,
    subject: str | None = None,
    mid: str | None = "auto",
    extra: str = "",
    ctype: str = "",
) -> str:
    sender = sender or f"Kunde {i} <kunde{i}@example.de>"
    lines = [
        f"From: {sender}",
        f"To: {OURS}",
        f"Subject: {subject or f'Anfrage {i}'}",
        f"Date: {date(i)}",
    ]
    if mid == "auto":
        mid = f"<c{i}@example.de>"
    if mid:
        lines.append(f"Message-ID: {mid}")
    lines.append("MIME-Version: 1.0")
    if ctype:
        lines.append(ctype)
    text = "\r\n".join(lines)
    if extra:
        text += "\r\n" + extra.strip("\r\n").replace("\r\n", "\n").replace("\n", "\r\n")
    return text + "\r\n"


def simple(
    i: int, body: str | bytes, *, charset: str = "utf-8", cte: str = "8bit", **kw: str
) -> bytes:
    ctype = f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {cte}"
    data = (
        body.encode(charset if charset and charset != "bogus" else "utf-8")
        if isinstance(body, str)
        else body
    )
    return headers(i, ctype=ctype, **kw).encode("utf-8") + b"\r\n" + data + b"\r\n"


def multipart(
    i: int,
    parts: list[bytes],
    *,
    subtype: str = "mixed",
    boundary: str = "",
    params: str = "",
    **kw: str,
) -> bytes:
    boundary = boundary or f"b{i}x"
    ctype = f'Content-Type: multipart/{subtype}; boundary="{boundary}"{params}'
    out = headers(i, ctype=ctype, **kw).encode() + b"\r\nThis is a MIME message.\r\n"
    for part in parts:
        out += f"--{boundary}\r\n".encode() + part + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def part(ctype: str, body: bytes, *, extra: str = "") -> bytes:
    head = f"Content-Type: {ctype}\r\n"
    if extra:
        head += extra.strip() + "\r\n"
    return head.encode() + b"\r\n" + body


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


GERMAN = [
    "Mein Fahrrad hat einen Platten, können Sie helfen?",
    "Die Lieferung ist nicht vollständig: es fehlt der Sattel.",
    "Ich möchte das Schloss zurückgeben, es passt nicht.",
    "Wann ist mein E-Bike aus der Werkstatt fertig?",
    "Die Rechnung enthält einen Fehler beim Preis für die Kette.",
    "Grüße aus Köln – die Bremse quietscht nach der Inspektion.",
]


def normal_cases(c: Corpus, rng: random.Random) -> int:
    i = 1000

    def nxt() -> int:
        nonlocal i
        i += 1
        return i

    def new(case: str, raw: bytes, why: str, mid_index: int | None = None) -> None:
        c.add(case, raw, "new_ticket", why)
        if mid_index is not None:
            c.threads.append(f"<c{mid_index}@example.de>")

    for k in range(30):  # plain UTF-8 with varied text
        n = nxt()
        new("plain-utf8", simple(n, GERMAN[k % len(GERMAN)] + f" (Fall {k})"), "plain", n)
    for k in range(8):  # declared latin-1, bytes latin-1
        n = nxt()
        new(
            "latin1",
            simple(n, f"Grüße, Größe {k} passt nicht", charset="iso-8859-1"),
            "declared charset",
            n,
        )
    for k in range(8):  # declared us-ascii, bytes are UTF-8
        n = nxt()
        raw = simple(n, f"Größe {k} – falsch deklariert".encode(), charset="us-ascii")
        new("wrong-charset-utf8", raw, "fallback to UTF-8", n)
    for k in range(8):  # declared UTF-8, bytes are windows-1252
        n = nxt()
        raw = simple(n, f"Preis {k} € zu hoch, Grüße".encode("cp1252"), charset="utf-8")
        new("wrong-charset-1252", raw, "fallback to windows-1252", n)
    for k in range(6):  # unknown charset name
        n = nxt()
        raw = simple(n, f"Unbekannter Zeichensatz {k} äöü".encode(), charset="x-klingon")
        new("unknown-charset", raw, "unknown charset", n)
    for k in range(6):  # no charset at all, 8-bit bytes
        n = nxt()
        raw = headers(n).encode() + f"\r\nOhne Zeichensatz {k}: Müller\r\n".encode("cp1252")
        new("no-charset", raw, "missing content-type", n)
    for k in range(8):  # broken RFC 2047 words in the subject
        n = nxt()
        subjects = [
            "=?utf-8?q?Gr=C3=BC=C3=9Fe_kaputt",
            "=?utf-8?b?!!!notbase64?=",
            "=?unknown-cs?q?abc?= Rest",
            "=?iso-8859-1?q?R=FCckgabe?==?utf-8?q?x",
            "=?utf-8?q?=E2=82?= halbes Euro",
            "=??q?leer?=",
            "=?utf-8?x?abc?=",
            "Normal =?utf-8?Q?mit_Wort?= und Rest",
        ]
        new("rfc2047-broken", simple(n, f"Text {k}", subject=subjects[k]), "broken words", n)
    for k in range(6):  # encoded display names
        n = nxt()
        sender = f"=?utf-8?q?J=C3=BCrgen_M=C3=BCller{k}?= <juergen{n}@example.de>"
        new("rfc2047-from", simple(n, "Hallo", sender=sender), "encoded name", n)
    for k in range(8):  # 8-bit raw headers
        n = nxt()
        raw = (
            f"From: Jörg {k} <joerg{n}@example.de>\r\nTo: {OURS}\r\n"
            f"Subject: Rückfrage zur Größe {k}\r\nDate: {date(n)}\r\n"
            f"Message-ID: <c{n}@example.de>\r\n\r\nText\r\n"
        ).encode("cp1252" if k % 2 else "utf-8")
        new("8bit-headers", raw, "raw 8-bit header bytes", n)
    for k in range(6):  # RFC 2231 file names
        n = nxt()
        names = [
            "UTF-8''Rechnung%20M%C3%A4rz.pdf",
            "iso-8859-1''Gr%FC%DFe.pdf",
            "UTF-8'de'%E2%82%AC-Beleg.pdf",
            "UTF-8''kaputt%ZZ.pdf",
            "UTF-8''a%2Fb%5Cc.pdf",
            "UTF-8''" + "x" * 300 + ".pdf",
        ]
        raw = multipart(
            n,
            [
                part("text/plain; charset=utf-8", b"Anbei die Rechnung."),
                part(
                    "application/pdf",
                    b64(b"%PDF-1.4 fake " + bytes([k])),
                    extra=f"Content-Transfer-Encoding: base64\r\n"
                    f"Content-Disposition: attachment; filename*={names[k]}",
                ),
            ],
        )
        new("rfc2231-filename", raw, "RFC 2231 file name", n)
    for _k in range(4):  # continuation filename
        n = nxt()
        raw = multipart(
            n,
            [
                part("text/plain", b"Fotos anbei"),
                part(
                    "image/png",
                    b64(b"\x89PNG\r\n\x1a\nfake"),
                    extra="Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment;"
                    "\r\n filename*0*=UTF-8''Foto%20vom;\r\n filename*1=\" Rahmen.png\"",
                ),
            ],
        )
        new("rfc2231-continuation", raw, "filename continuation", n)
    for k in range(6):  # missing Date
        n = nxt()
        raw = (
            f"From: kunde{n}@example.de\r\nSubject: Ohne Datum {k}\r\n"
            f"Message-ID: <c{n}@example.de>\r\n\r\nKein Datum\r\n"
        ).encode()
        new("no-date", raw, "missing Date", n)
    for k in range(6):  # missing Message-ID
        n = nxt()
        new("no-message-id", simple(n, f"Ohne ID {k}", mid=None), "missing Message-ID")
    for k in range(4):  # broken Date
        n = nxt()
        raw = simple(n, "Datum kaputt", extra=f"Date: gestern um {k} Uhr")
        raw = raw.replace(f"Date: {date(n)}\r\n".encode(), b"", 1)
        new("bad-date", raw, "unparseable Date", n)
    for k in range(6):  # duplicate headers
        n = nxt()
        raw = simple(
            n,
            f"Doppelte Header {k}",
            extra=f"Subject: Zweiter Betreff {k}\r\nFrom: andere{n}@example.de\r\n"
            f"Message-ID: <zweite{n}@example.de>",
        )
        new("duplicate-headers", raw, "duplicate headers", n)
    for k in range(4):  # address oddities
        n = nxt()
        senders = [
            f"kunde{n}@example.de",
            f"<kunde{n}@example.de>",
            f'"Müller, Hans" <kunde{n}@example.de>',
            f"kunde{n}@example.de (Hans Müller)",
        ]
        new("address-forms", simple(n, "Adressform", sender=senders[k]), "address forms", n)
    for depth in (3, 8, 15, 19):  # nested multiparts within the limit
        n = nxt()
        inner = part("text/plain; charset=utf-8", f"Tief verschachtelt ({depth})".encode())
        for level in range(depth):
            b = f"n{n}l{level}"
            inner = (
                (f'Content-Type: multipart/mixed; boundary="{b}"\r\n\r\n--{b}\r\n').encode()
                + inner
                + f"\r\n--{b}--".encode()
            )
        raw = headers(n).encode() + inner + b"\r\n"
        new("nested", raw, f"nested {depth} levels", n)
    for _k in range(4):  # TNEF winmail.dat
        n = nxt()
        raw = multipart(
            n,
            [
                part("text/plain", b"Siehe Anhang (Outlook)."),
                part(
                    'application/ms-tnef; name="winmail.dat"',
                    b64(b"\x78\x9f\x3e\x22" + b"x" * 40),
                    extra="Content-Transfer-Encoding: base64\r\n"
                    'Content-Disposition: attachment; filename="winmail.dat"',
                ),
            ],
        )
        new("tnef", raw, "winmail.dat kept", n)
    for k in range(4):  # calendar invites
        n = nxt()
        ics = (
            f"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Werkstatttermin {k}"
            f"\r\nDTSTART:20261110T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR"
        ).encode()
        parts = [part("text/calendar; method=REQUEST; charset=utf-8", ics)]
        if k % 2:
            parts.insert(0, part("text/plain", b"Einladung"))
        new(
            "calendar",
            multipart(n, parts, subtype="alternative" if k % 2 else "mixed"),
            "calendar invite",
            n,
        )
    for k in range(4):  # S/MIME and PGP signed
        n = nxt()
        sig = (
            "application/pkcs7-signature; name=smime.p7s" if k % 2 else "application/pgp-signature"
        )
        raw = multipart(
            n,
            [
                part("text/plain; charset=utf-8", "Signierte Nachricht äöü".encode()),
                part(sig, b64(b"signature-bytes"), extra="Content-Transfer-Encoding: base64"),
            ],
            subtype="signed",
            params='; protocol="application/pkcs7-signature"; micalg=sha-256',
        )
        new("signed", raw, "signed mail", n)
    for _k in range(2):  # opaque S/MIME
        n = nxt()
        raw = headers(
            n,
            ctype="Content-Type: application/pkcs7-mime; smime-type=signed-data; "
            "name=smime.p7m\r\nContent-Transfer-Encoding: base64",
        ).encode()
        new("smime-opaque", raw + b"\r\n" + b64(b"opaque") + b"\r\n", "opaque S/MIME", n)
    for k in range(8):  # HTML only, with scripts and handlers
        n = nxt()
        html = (
            f"<html><head><style>p{{color:red}}</style><script>alert({k})</script></head>"
            f"<body><p onclick='x()'>Hallo <b>Team</b>,</p><p>Frage {k}&nbsp;&amp; Dank"
            f"<img src='http://tracker.example/p.gif'></p><iframe src=x></iframe></body>"
            f"</html>"
        ).encode()
        raw = headers(n, ctype="Content-Type: text/html; charset=utf-8").encode() + b"\r\n" + html
        new("html-only", raw, "HTML only, sanitised", n)
    for k in range(8):  # alternative text + html
        n = nxt()
        raw = multipart(
            n,
            [
                part("text/plain; charset=utf-8", f"Text-Version {k}".encode()),
                part("text/html; charset=utf-8", f"<p>HTML-Version {k}</p>".encode()),
            ],
            subtype="alternative",
        )
        new("alternative", raw, "text and HTML", n)
    for k in range(6):  # quoted-printable and base64 damage
        n = nxt()
        bodies = [
            b"Kaputt =XY und =\r\nweiter =C3=",
            b"soft=\r\nbreak=3",
            b"=E4=F6=FC latin?",
            b"!!!! kein base64 ####",
            b"SGFsbG8gV2VsdA",
            b"SGFsbG8=====junk",
        ]
        cte = "quoted-printable" if k < 3 else "base64"
        raw = simple(n, bodies[k], charset="utf-8", cte=cte)
        new("cte-broken", raw, "broken transfer encoding", n)
    for k in range(4):  # forwarded message attached
        n = nxt()
        inner = (
            f"From: lieferant@example.com\r\nSubject: Lieferschein {k}\r\n"
            f"Message-ID: <inner{n}@example.com>\r\n\r\nLieferschein\r\n"
        ).encode()
        raw = multipart(n, [part("text/plain", b"Weitergeleitet"), part("message/rfc822", inner)])
        new("forwarded", raw, "message/rfc822 attachment", n)
    for k in range(4):  # empty body / attachment only
        n = nxt()
        if k < 2:
            raw = headers(n).encode() + b"\r\n"
        else:
            raw = multipart(
                n,
                [
                    part(
                        "application/pdf",
                        b64(b"%PDF"),
                        extra="Content-Transfer-Encoding: base64\r\n"
                        "Content-Disposition: attachment; filename=a.pdf",
                    )
                ],
            )
        new("empty-body", raw, "no text", n)
    for k in range(4):  # line ending chaos, NUL and control bytes
        n = nxt()
        raw = simple(
            n, f"Zeile1\rZeile2\nZeile3\x00NUL\x07 {k}".encode(), subject=f"Steuerzeichen\x01{k}"
        )
        if k % 2:
            raw = raw.replace(b"\r\n", b"\n")
        new("line-endings", raw, "bare LF/CR and NUL", n)
    for k in range(4):  # long lines and many Received headers
        n = nxt()
        received = "".join(
            f"Received: from relay{j}.example by mx.example; {date(n)}\r\n" for j in range(60)
        )
        raw = received.encode() + simple(n, "x" * 20000 + f" {k}")
        new("long-lines", raw, "long lines, many Received", n)
    for k in range(4):  # emoji and other scripts
        n = nxt()
        subject = [
            "=?utf-8?b?" + base64.b64encode("Fahrrad 🚲 kaputt".encode()).decode() + "?=",
            "=?utf-8?q?=D0=9F=D1=80=D0=B8=D0=B2=D0=B5=D1=82?=",
            "Ünïcödé ✓",
            "=?gb2312?b?xOO6ww==?=",
        ][k]
        new("scripts", simple(n, "🚲 Привет 你好", subject=subject), "emoji and scripts", n)
    for _k in range(6):  # Auto-Submitted: no is a person
        n = nxt()
        new(
            "auto-submitted-no",
            simple(n, "Ich bin ein Mensch", extra="Auto-Submitted: no"),
            "Auto-Submitted: no is not a robot",
            n,
        )
    for k in range(4):  # boundary problems
        n = nxt()
        if k < 2:
            raw = headers(n, ctype='Content-Type: multipart/mixed; boundary="missing"').encode()
            raw += b"\r\nKein einziger Boundary-Abschnitt\r\n"
        else:
            raw = headers(n, ctype="Content-Type: multipart/mixed").encode()
            raw += b"\r\n--x\r\nContent-Type: text/plain\r\n\r\nohne boundary-Parameter\r\n"
        new("boundary-broken", raw, "multipart without valid boundary", n)
    return i


def reply_cases(c: Corpus, start: int, rng: random.Random) -> int:
    i = start
    threads = list(c.threads)
    rng.shuffle(threads)
    for k, mid in enumerate(threads[:40]):
        i += 1
        sender_index = int(mid.strip("<>").split("@")[0][1:])
        sender = f"Kunde {sender_index} <kunde{sender_index}@example.de>"
        if k % 4 == 0:  # In-Reply-To only
            extra = f"In-Reply-To: {mid}"
        elif k % 4 == 1:  # References only (client dropped In-Reply-To)
            extra = f"References: <unknown{i}@elsewhere> {mid}"
        elif k % 4 == 2:  # both, with an unknown In-Reply-To first
            extra = f"In-Reply-To: <nothing{i}@x>\r\nReferences: {mid}"
        else:  # angle brackets missing
            extra = f"In-Reply-To: {mid.strip('<>')}"
        raw = simple(
            i, f"Antwort {k} auf {mid}", subject=f"Re: Anfrage {k}", extra=extra, sender=sender
        )
        c.add("reply", raw, "appended", "threaded by Message-ID")
    for _k in range(6):  # unknown parents: new tickets
        i += 1
        raw = simple(
            i,
            "Antwort ins Leere",
            subject="Re: alte Sache",
            extra=f"In-Reply-To: <never{i}@example.de>",
        )
        c.add("reply-unknown", raw, "new_ticket", "unknown parent")
    return i


def duplicate_cases(c: Corpus) -> None:
    originals = [it for it in c.items if it["result"] == "new_ticket"][:40:2]
    for k, it in enumerate(originals[:20]):
        raw = c.raws[it["file"]]
        if k % 2:
            raw = b"Received: from mx2.example by mx.example; Tue, 3 Nov 2026\r\n" + raw
        c.add("duplicate", raw, "duplicate", f"again: {it['file']}")
    # Same Message-ID, different content: not a duplicate.
    first = originals[0]
    raw = c.raws[first["file"]].replace(b"(Fall 0)", b"(Fall 0, korrigiert)")
    c.add("same-id-new-content", raw, "new_ticket", "same Message-ID, other text")


def auto_reply_cases(c: Corpus, start: int) -> int:
    i = start
    variants = [
        ("Auto-Submitted: auto-replied", "Re: Anfrage"),
        ("Auto-Submitted: auto-generated", "Benachrichtigung"),
        ("Auto-Submitted: auto-notified; owner-email=x@y", "Info"),
        ("X-Autoreply: yes", "Re: Anfrage"),
        ("X-Autorespond: Vacation", "Re: Anfrage"),
        ("Precedence: bulk", "Newsletter"),
        ("Precedence: junk", "Werbung"),
        ("Precedence: list", "Liste"),
        ("X-Auto-Response-Suppress: All", "Automatische Antwort: Anfrage"),
        ("X-Auto-Response-Suppress: OOF", "Automatic reply: your request"),
        ("", "Abwesenheitsnotiz: Anfrage"),
        ("", "Out of Office: Anfrage"),
        ("", "Réponse automatique : Anfrage"),
        ("", "Urlaub bis 15.11."),
        ("", "AUTO: Hans Müller ist nicht im Büro"),
        (f"X-Stammkunde-Ticket: 2026-000001\r\nFrom-Loop: {OURS}", "Re: Ihre Anfrage"),
    ]
    for _round in range(2):
        for header, subject in variants:
            i += 1
            raw = simple(i, "Ich bin bis Montag nicht erreichbar.", subject=subject, extra=header)
            c.add("auto-reply", raw, "auto_reply", header or "vacation subject")
    i += 1
    c.add(
        "own-address",
        simple(i, "Schleife", sender=f"Service <{OURS}>"),
        "auto_reply",
        "sent from our own address",
    )
    # A vacation reply to one of our tickets, threaded but still no message.
    i += 1
    raw = simple(
        i,
        "Bin weg",
        subject="Abwesend",
        extra=f"Auto-Submitted: auto-replied\r\nIn-Reply-To: {c.threads[0]}",
    )
    c.add("auto-reply-threaded", raw, "auto_reply", "robot answering our ticket")
    return i


def dsn(i: int, recipient: str, action: str, status: str, *, original: str = "") -> bytes:
    report = (
        f"Reporting-MTA: dns; mx.example.de\r\nArrival-Date: {date(i)}\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\n"
        f"Status: {status}\r\nDiagnostic-Code: smtp; {status} mailbox problem\r\n"
    ).encode()
    original = original or (
        f"From: {OURS}\r\nTo: {recipient}\r\nSubject: Ihre Anfrage\r\n"
        f"Message-ID: <out{i}@stammkunde.example>\r\n\r\n"
    )
    return multipart(
        i,
        [
            part("text/plain", b"Delivery to the following recipient failed permanently."),
            part("message/delivery-status", report),
            part("text/rfc822-headers", original.encode()),
        ],
        subtype="report",
        params="; report-type=delivery-status",
        sender="Mail Delivery System <MAILER-DAEMON@mx.example.de>",
        subject="Undelivered Mail Returned to Sender",
        extra="Auto-Submitted: auto-replied",
    )


def bounce_cases(c: Corpus, start: int) -> int:
    i = start
    i += 1
    c.add(
        "bounce-hard-known",
        dsn(i, KNOWN, "failed", "5.1.1"),
        "bounce",
        "hard bounce of a customer's address",
    )
    for k in range(8):
        i += 1
        c.add(
            "bounce-hard",
            dsn(i, f"weg{k}@example.org", "failed", f"5.{k % 4 + 1}.1"),
            "bounce",
            "DSN 5.x.x",
        )
    for k in range(5):
        i += 1
        c.add(
            "bounce-soft",
            dsn(i, f"voll{k}@example.org", "delayed", "4.2.2"),
            "bounce",
            "DSN 4.x.x (soft)",
        )
    for k in range(3):
        i += 1
        raw = simple(
            i,
            "This message was created automatically by mail delivery software.\r\n"
            f"  weg{k}@example.org\r\n    SMTP error: 550 5.1.1 unknown user",
            sender="Mail Delivery System <Mailer-Daemon@mx.example.org>",
            subject="Mail delivery failed: returning message to sender",
            extra=f"X-Failed-Recipients: weg{k}@example.org",
        )
        c.add("bounce-exim", raw, "bounce", "Exim X-Failed-Recipients")
    for k in range(3):
        i += 1
        raw = simple(
            i,
            f"Hi. This is the qmail-send program.\r\n<alt{k}@example.org>:\r\n"
            "Sorry, no mailbox here by that name. (#5.1.1)",
            sender=f"MAILER-DAEMON@mx{k}.example.org",
            subject="failure notice",
        )
        c.add("bounce-qmail", raw, "bounce", "qmail failure notice")
    i += 1
    raw = multipart(
        i,
        [part("text/plain", b"no details")],
        subtype="report",
        params="; report-type=delivery-status",
        sender="MAILER-DAEMON@mx.example.de",
        subject="Returned mail",
    )
    c.add("bounce-no-recipient", raw, "bounce", "DSN without recipient block")
    return i


def quarantine_cases(c: Corpus, start: int) -> int:
    i = start
    i += 1
    big_header = "X-Junk: " + "a" * (300 * 1024)
    c.add("huge-header", simple(i, "x", extra=big_header), "quarantined", "header > 256 KB")
    i += 1
    many = "\r\n".join(f"X-H{j}: v" for j in range(1200))
    c.add("many-headers", simple(i, "x", extra=many), "quarantined", "> 1000 header fields")
    for depth in (25, 60):
        i += 1
        inner = part("text/plain", b"zu tief")
        for level in range(depth):
            b = f"q{i}l{level}"
            inner = (
                (f'Content-Type: multipart/mixed; boundary="{b}"\r\n\r\n--{b}\r\n').encode()
                + inner
                + f"\r\n--{b}--".encode()
            )
        c.add(
            "too-deep",
            headers(i).encode() + inner + b"\r\n",
            "quarantined",
            f"nesting {depth} > 20",
        )
    i += 1
    parts = [part("text/plain", f"Teil {j}".encode()) for j in range(520)]
    c.add("too-many-parts", multipart(i, parts), "quarantined", "> 500 parts")
    i += 1
    attachment = b64(random.Random(5).randbytes(SIZE_LIMIT))
    raw = multipart(
        i,
        [
            part("text/plain", b"grosser Anhang"),
            part(
                "application/pdf",
                attachment,
                extra="Content-Transfer-Encoding: base64\r\n"
                "Content-Disposition: attachment; filename=gross.pdf",
            ),
        ],
    )
    c.add("too-large", raw, "quarantined", "larger than the 512 KB corpus limit")
    c.add("empty", b"", "quarantined", "empty file")
    c.add("whitespace", b"\r\n\r\n  \r\n", "quarantined", "only whitespace")
    for k in range(4):
        c.add("garbage", random.Random(k).randbytes(600), "quarantined", "random bytes: no sender")
    for k in range(3):
        i += 1
        raw = (
            f"To: {OURS}\r\nSubject: Ohne Absender {k}\r\nMessage-ID: <nofrom{i}@x>\r\n\r\n"
            "Wer bin ich?\r\n"
        ).encode()
        c.add("no-sender", raw, "quarantined", "no From, Sender or Return-Path")
    i += 1
    raw = simple(i, "x", sender="kein absender", mid=f"<badfrom{i}@x>")
    c.add("unusable-from", raw, "quarantined", "From without an address")
    # Re-sent copy of a quarantined message is recognised as a duplicate.
    c.add(
        "duplicate-of-quarantined",
        c.raws[c.items[-1]["file"]],
        "duplicate",
        "same bytes as the previous quarantined message",
    )
    return i


def build() -> Corpus:
    rng = random.Random(20261102)
    corpus = Corpus()
    i = normal_cases(corpus, rng)
    i = reply_cases(corpus, i, rng)
    duplicate_cases(corpus)
    i = auto_reply_cases(corpus, i)
    i = bounce_cases(corpus, i)
    quarantine_cases(corpus, i)
    return corpus


def main() -> None:
    corpus = build()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.eml"):
        old.unlink()
    for name, raw in corpus.raws.items():
        (OUT / name).write_bytes(raw)
    counts: dict[str, int] = {}
    for item in corpus.items:
        counts[item["result"]] = counts.get(item["result"], 0) + 1
    expected = {
        "known_customer": KNOWN,
        "size_limit": SIZE_LIMIT,
        "counts": counts,
        "messages": corpus.items,
    }
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(corpus.items)} messages: {counts}")


if __name__ == "__main__":
    main()
