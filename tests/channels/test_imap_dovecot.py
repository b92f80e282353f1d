"""The poller against a real IMAP server: Debian's dovecot started by the fixture."""

from __future__ import annotations

import imaplib
import smtplib

import pytest

from stammkunde.channels.imap import mailbox_poll
from stammkunde.channels.models import InboundMessage, Mailbox
from stammkunde.service.models import Queue, Ticket

from .conftest import mail
from .dovecot import PASSWORD, USER, Dovecot, running_dovecot

pytestmark = pytest.mark.django_db


@pytest.fixture
def dovecot():
    with running_dovecot() as server:
        yield server


@pytest.fixture
def mailbox(dovecot, monkeypatch) -> Mailbox:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
    queue = Queue.objects.create(name="Kundenservice")
    return Mailbox.objects.create(
        name="service",
        address="service@shop.example",
        queue=queue,
        host="127.0.0.1",
        port=dovecot.imap_port,
        use_ssl=False,
        username=USER,
        password_env="TEST_IMAP_PASSWORD",
    )


def deliver(server: Dovecot, n: int, start: int = 0) -> None:
    """Deliver mails into the IMAP mailbox over LMTP, as the MTA would."""
    with smtplib.LMTP("127.0.0.1", server.lmtp_port) as lmtp:
        for i in range(start, start + n):
            lmtp.sendmail(
                f"kunde{i}@example.de",
                [USER],
                mail(
                    sender=f"Kunde {i} <kunde{i}@example.de>",
                    subject=f"Frage {i}",
                    message_id=f"<dove{i}@example.de>",
                    body=f"Frage Nummer {i}",
                ),
            )


def _reload(mailbox: Mailbox) -> Mailbox:
    """What a restarted poller process sees: only the database."""
    return Mailbox.objects.get(pk=mailbox.pk)


def test_poller_fetches_each_mail_once_across_server_and_poller_restarts(dovecot, mailbox):
    # given
    deliver(dovecot, 3)
    # when
    first = mailbox_poll(mailbox=_reload(mailbox))
    deliver(dovecot, 2, start=3)
    dovecot.stop()
    dovecot.start()
    second = mailbox_poll(mailbox=_reload(mailbox))
    third = mailbox_poll(mailbox=_reload(mailbox))
    # then
    assert (first.fetched, second.fetched, third.fetched) == (3, 2, 0)
    assert Ticket.objects.count() == 5
    assert _reload(mailbox).last_uid == 5
    assert set(InboundMessage.objects.values_list("uid", flat=True)) == {1, 2, 3, 4, 5}


def test_a_crash_before_last_uid_was_saved_fetches_again_without_new_tickets(dovecot, mailbox):
    deliver(dovecot, 2)
    mailbox_poll(mailbox=_reload(mailbox))
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=0)  # the update was lost
    report = mailbox_poll(mailbox=_reload(mailbox))
    assert report.results == {"duplicate": 2}
    assert Ticket.objects.count() == 2
    assert InboundMessage.objects.count() == 2


def test_a_new_uidvalidity_rescans_and_recognises_stored_mails(dovecot, mailbox):
    # given: mails in a folder that is then rebuilt (new UIDVALIDITY)
    Mailbox.objects.filter(pk=mailbox.pk).update(folder="Support")
    imap = imaplib.IMAP4("127.0.0.1", dovecot.imap_port)
    imap.login(USER, PASSWORD)
    imap.create("Support")
    mails = [mail(message_id=f"<fold{i}@example.de>", subject=f"Ordner {i}") for i in range(3)]
    for raw in mails[:2]:
        imap.append("Support", None, None, raw)
    first = mailbox_poll(mailbox=_reload(mailbox))
    old_validity = _reload(mailbox).uidvalidity
    imap.delete("Support")
    imap.create("Support")
    for raw in mails:  # the two old ones and a new one
        imap.append("Support", None, None, raw)
    imap.logout()
    # when
    second = mailbox_poll(mailbox=_reload(mailbox))
    # then
    assert first.fetched == 2
    assert second.rescanned and _reload(mailbox).uidvalidity != old_validity
    assert second.results == {"duplicate": 2, "new_ticket": 1}
    assert Ticket.objects.count() == 3
