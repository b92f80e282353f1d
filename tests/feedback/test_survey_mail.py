"""Survey mail goes through the channels outbox: status, retries and bounces as any mail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from stammkunde.channels import selectors as channel_selectors
from stammkunde.channels.models import OutboxMessage
from stammkunde.channels.services import OUTBOX_MAX_ATTEMPTS, mail_ingest, outbox_send_due
from stammkunde.customers.models import Consent, EmailAddress
from stammkunde.customers.services import consent_record
from stammkunde.feedback import services
from stammkunde.feedback.services import InvitationSuppressed
from tests.channels.conftest import free_port, smtp_server  # noqa: F401  (the fixture)

from .conftest import q

pytestmark = pytest.mark.django_db

SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture
def relay(settings: Any, smtp_server: Any) -> Any:  # noqa: F811
    """A real SMTP relay; the outbox is sent explicitly, as the scheduled run would."""
    settings.EMAIL_BACKEND = SMTP
    settings.CHANNELS_SEND_IMMEDIATELY = False
    return smtp_server


def _send(invitation: Any, capture: Any) -> OutboxMessage:
    with capture(execute=True):
        services.invitation_send(invitation=invitation)
    return OutboxMessage.objects.get(kind="survey", reference_id=invitation.pk)


def _dsn(recipient: str, message_id: str) -> bytes:
    return (
        "From: MAILER-DAEMON@example.de\r\nTo: service@stammkunde.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-survey@example.de>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.de\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{message_id}>\r\n\r\n--b--\r\n"
    ).encode()


def test_an_invitation_is_queued_in_the_outbox_and_marked_sent_once_the_relay_took_it(
    csat_survey, customer, invite, relay, django_capture_on_commit_callbacks
) -> None:
    # given
    invitation = invite(csat_survey, customer)
    # when: the invitation is sent, the mail is only queued
    outbox = _send(invitation, django_capture_on_commit_callbacks)
    # then
    assert outbox.status == "queued"
    assert outbox.to == customer.emails.first().address
    assert "/feedback/s/" in outbox.body_text
    invitation.refresh_from_db()
    assert invitation.sent_at is None
    # and the outbox run delivers it, and only then is the invitation sent
    assert outbox_send_due() == {"sent": 1}
    assert len(relay.messages) == 1
    invitation.refresh_from_db()
    assert invitation.sent_at is not None


def test_sending_an_invitation_twice_queues_one_mail(
    csat_survey, customer, invite, relay, django_capture_on_commit_callbacks
) -> None:
    invitation = invite(csat_survey, customer)
    _send(invitation, django_capture_on_commit_callbacks)
    _send(invitation, django_capture_on_commit_callbacks)
    assert OutboxMessage.objects.filter(kind="survey").count() == 1


def test_with_the_relay_down_the_invitation_waits_deferred_and_is_sent_later(
    csat_survey, customer, invite, relay, settings, django_capture_on_commit_callbacks
) -> None:
    # given: nobody listens on the relay port
    settings.EMAIL_PORT = free_port()
    invitation = invite(csat_survey, customer)
    outbox = _send(invitation, django_capture_on_commit_callbacks)
    # when
    assert outbox_send_due() == {"retry": 1}
    # then: deferred with the reason, visible among the delivery problems
    outbox.refresh_from_db()
    assert outbox.delivery_state == "deferred" and "refused" in outbox.last_error.lower()
    problems = channel_selectors.delivery_problems(since=timezone.now() - timedelta(hours=1))
    assert problems["counts"]["deferred"] == 1
    invitation.refresh_from_db()
    assert invitation.sent_at is None
    # and once the relay is back, the next run sends it
    settings.EMAIL_PORT = relay.port
    assert outbox_send_due(now=timezone.now() + timedelta(minutes=5)) == {"sent": 1}
    invitation.refresh_from_db()
    assert invitation.sent_at is not None and len(relay.messages) == 1


def test_after_the_last_attempt_the_invitation_mail_is_failed_and_listed(
    csat_survey, customer, invite, relay, settings, django_capture_on_commit_callbacks
) -> None:
    settings.EMAIL_PORT = free_port()
    invitation = invite(csat_survey, customer)
    outbox = _send(invitation, django_capture_on_commit_callbacks)
    OutboxMessage.objects.filter(pk=outbox.pk).update(attempts=OUTBOX_MAX_ATTEMPTS - 1)
    assert outbox_send_due() == {"failed": 1}
    problems = channel_selectors.delivery_problems(since=timezone.now() - timedelta(hours=1))
    assert [o.pk for o in problems["latest"]] == [outbox.pk]
    invitation.refresh_from_db()
    assert invitation.sent_at is None


def test_a_hard_bounce_marks_the_invitation_mail_and_stops_further_invitations(
    csat_survey, nps_survey, customer, invite, relay, django_capture_on_commit_callbacks
) -> None:
    # given: a delivered invitation
    invitation = invite(csat_survey, customer)
    outbox = _send(invitation, django_capture_on_commit_callbacks)
    assert outbox_send_due() == {"sent": 1}
    # when: the recipient's server bounces it
    assert mail_ingest(raw=_dsn(outbox.to, outbox.message_id)).result == "bounce"
    # then
    outbox.refresh_from_db()
    assert outbox.status == "bounced"
    assert EmailAddress.objects.get(address=outbox.to).undeliverable_at is not None
    with pytest.raises(InvitationSuppressed) as exc:
        invite(nps_survey, customer, min_gap_days=0)
    assert exc.value.code == "undeliverable"


def test_the_referral_ask_of_a_promoter_goes_through_the_outbox(
    nps_survey, customer, relay, django_capture_on_commit_callbacks
) -> None:
    consent_record(
        actor=None, customer=customer, purpose=Consent.Purpose.MARKETING, channel="email",
        status=Consent.Status.GRANTED, source="checkout",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.response_submit(
            answers={q(nps_survey, 1): 10}, version=nps_survey.current_version,
            customer=customer, source="api",
        )  # fmt: skip
    outbox = OutboxMessage.objects.get(kind="survey")
    assert outbox.to == customer.emails.first().address
    assert outbox_send_due() == {"sent": 1} and len(relay.messages) == 1
