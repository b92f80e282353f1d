"""Real LMTP/SMTP delivery into the listener, and the `mail ingest` command."""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys

import pytest
from django.core.management import call_command

from stammkunde.channels.listener import listener_start
from stammkunde.channels.models import InboundMessage, Mailbox
from stammkunde.service.models import Queue, Ticket

from .conftest import free_port, mail

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lmtp_listener():
    port = free_port()
    controller = listener_start(port=port, lmtp=True)
    yield port
    controller.stop()


def test_lmtp_delivery_stores_the_mail_once_and_answers_per_recipient(lmtp_listener) -> None:
    # given
    queue = Queue.objects.create(name="Werkstatt")
    Mailbox.objects.create(name="werkstatt", address="werkstatt@shop.example", queue=queue)
    raw = mail()
    # when
    with smtplib.LMTP("127.0.0.1", lmtp_listener) as lmtp:
        refused = lmtp.sendmail(
            "erika@example.de", ["werkstatt@shop.example", "service@shop.example"], raw
        )
        # LMTP answers once per recipient (RFC 2033); smtplib reads only the first.
        second_recipient = lmtp.getreply()
        again = lmtp.sendmail("erika@example.de", ["werkstatt@shop.example"], raw)
    # then
    assert refused == {} and again == {}
    assert second_recipient[0] == 250
    assert Ticket.objects.get().queue == queue
    assert sorted(InboundMessage.objects.values_list("result", flat=True)) == [
        "duplicate",
        "new_ticket",
    ]
    assert set(InboundMessage.objects.values_list("source", flat=True)) == {"lmtp"}


def test_smtp_listener_ingests_mail(db) -> None:
    Queue.objects.create(name="Kundenservice")
    port = free_port()
    controller = listener_start(port=port, lmtp=False)
    try:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.sendmail("erika@example.de", ["service@shop.example"], mail())
    finally:
        controller.stop()
    assert InboundMessage.objects.get().result == "new_ticket"


def test_mail_ingest_prints_one_json_line_per_file(tmp_path, capsys) -> None:
    # given
    Queue.objects.create(name="Kundenservice")
    good = tmp_path / "good.eml"
    good.write_bytes(mail())
    auto = tmp_path / "auto.eml"
    auto.write_bytes(mail(message_id="<a@x>", headers={"Auto-Submitted": "auto-replied"}))
    huge = tmp_path / "huge.eml"
    huge.write_bytes(b"Subject: x\r\n" + b"X-Junk: " + b"a" * 300_000 + b"\r\n\r\nbody")
    # when
    call_command("mail", "ingest", str(good), str(auto), str(huge), str(good))
    # then
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["result"] for line in lines] == [
        "new_ticket",
        "auto_reply",
        "quarantined",
        "duplicate",
    ]
    assert lines[0]["ticket"] == Ticket.objects.get().number
    assert lines[0]["file"] == str(good)
    assert "header" in lines[2]["reason"]


def test_mail_ingest_reads_standard_input(tmp_path) -> None:
    """Through the installed console script, as an MTA pipe would call it."""
    # The subprocess uses its own SQLite database under tmp_path.
    env = {"STAMMKUNDE_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run(
        [sys.executable, "-m", "stammkunde.cli", "migrate", "-v0"], env=env, check=True, timeout=300
    )
    done = subprocess.run(
        [sys.executable, "-m", "stammkunde.cli", "mail", "ingest"],
        input=b"garbage without headers",
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout)
    assert line["file"] == "-"
    assert line["result"] == "quarantined"  # no queue configured in the fresh database
    # and with worker processes: a reply still lands on its ticket, one prospect per sender
    cli = [sys.executable, "-m", "stammkunde.cli"]
    subprocess.run(
        [
            *cli,
            "shell",
            "-c",
            "from stammkunde.service.models import Queue; "
            "Queue.objects.create(name='Kundenservice')",
        ],
        env=env,
        check=True,
        timeout=120,
    )
    files = []
    for i in range(6):
        path = tmp_path / f"{i}.eml"
        path.write_bytes(
            mail(sender=f"k{i % 2}@example.de", message_id=f"<p{i}@x.de>", subject=f"Frage {i}")
        )
        files.append(str(path))
    reply = tmp_path / "reply.eml"
    reply.write_bytes(mail(sender="k0@example.de", message_id="<r@x.de>", in_reply_to="<p0@x.de>"))
    done = subprocess.run(
        [*cli, "mail", "ingest", "--jobs", "2", *files, str(reply)],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = {row["file"]: row for row in map(json.loads, done.stdout.splitlines())}
    assert [rows[f]["result"] for f in files] == ["new_ticket"] * 6
    assert rows[str(reply)]["result"] == "appended"
    assert rows[str(reply)]["ticket"] == rows[files[0]]["ticket"]
    counted = subprocess.run(
        [
            *cli,
            "shell",
            "-c",
            "from stammkunde.customers.models import Customer; print(Customer.objects.count())",
        ],
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert counted.stdout.strip().splitlines()[-1] == b"2"


def test_with_the_database_down_lmtp_answers_try_again_later(lmtp_listener, monkeypatch) -> None:
    """The MTA keeps the message in its queue: nothing is lost."""
    from django.db import OperationalError

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("stammkunde.channels.services.mail_ingest", down)
    with (
        smtplib.LMTP("127.0.0.1", lmtp_listener) as lmtp,
        pytest.raises(smtplib.SMTPDataError) as refused,
    ):
        lmtp.sendmail("erika@example.de", ["service@shop.example"], mail())
    assert refused.value.smtp_code == 451
    assert InboundMessage.objects.count() == 0
