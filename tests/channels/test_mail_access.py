"""Raw mails, their attachments and a ticket's mail state: only for roles that read mails."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from django.urls import reverse

from stammkunde.channels.services import mail_ingest
from stammkunde.core.models import ServicePartner
from stammkunde.service.models import Queue, Ticket

from .conftest import mail

pytestmark = pytest.mark.django_db


def _mail_with_attachment() -> bytes:
    msg = message_from_bytes(mail(), policy=policy.default)
    msg.add_attachment(
        b"%PDF-1.4 Rechnung", maintype="application", subtype="pdf", filename="rechnung.pdf"
    )  # type: ignore[attr-defined]
    return msg.as_bytes()


def _urls(result) -> list[str]:
    return [
        reverse("channels:inbound_raw", args=[result.inbound_id]),
        reverse("channels:inbound_attachment", args=[result.inbound_id, 1]),
        reverse("channels:ticket_mail", args=[result.ticket_id]),
    ]


@pytest.mark.parametrize("role", ["marketing", "analyst"])
def test_marketing_and_analyst_cannot_read_a_customers_mail(queue, client, make_user, role):
    result = mail_ingest(raw=_mail_with_attachment())
    client.force_login(make_user(role))
    for url in _urls(result):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Bremse" not in response.content and b"PDF" not in response.content


@pytest.mark.parametrize("role", ["agent", "team_lead", "admin"])
def test_service_roles_read_the_mail_of_a_ticket(queue, client, make_user, role):
    result = mail_ingest(raw=_mail_with_attachment())
    client.force_login(make_user(role))
    raw, attachment, state = (client.get(url) for url in _urls(result))
    assert raw.status_code == 200 and b"Bremse quietscht" in raw.content
    assert attachment.status_code == 200 and attachment.content == b"%PDF-1.4 Rechnung"
    assert state.status_code == 200


def test_a_partner_agent_reads_only_the_mails_of_its_partners_queues(queue, client, make_user):
    own, foreign = (
        ServicePartner.objects.create(name="Own"),
        ServicePartner.objects.create(name="Foreign"),
    )
    mine = mail_ingest(raw=_mail_with_attachment())
    theirs = mail_ingest(raw=mail(message_id="<m2@example.de>", subject="Andere Bremse"))
    Ticket.objects.filter(pk=mine.ticket_id).update(
        queue=Queue.objects.create(name="Own queue", partner=own)
    )
    Ticket.objects.filter(pk=theirs.ticket_id).update(
        queue=Queue.objects.create(name="Foreign queue", partner=foreign)
    )
    client.force_login(make_user("partner_agent", partner=own))
    assert [client.get(u).status_code for u in _urls(mine)] == [200, 200, 200]
    assert [client.get(u).status_code for u in _urls(theirs)] == [404, 404, 404]
