from __future__ import annotations

import pytest

from stammkunde.channels.services import mail_ingest

from .conftest import mail

pytestmark = pytest.mark.django_db


def test_an_agent_lists_the_mails_of_a_ticket(queue, agent, api_as) -> None:
    result = mail_ingest(raw=mail())
    response = api_as(agent).get(f"/api/channels/inbound/?ticket={result.ticket_id}")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [result.inbound_id]
    assert "raw" not in rows[0]


def test_a_partner_agent_sees_no_mail_of_other_queues(queue, partner_agent, api_as) -> None:
    result = mail_ingest(raw=mail())
    client = api_as(partner_agent)
    assert client.get("/api/channels/inbound/").json()["results"] == []
    assert client.get(f"/api/channels/inbound/{result.inbound_id}/").status_code == 404
    assert client.get("/api/channels/outbox/").json()["results"] == []


def test_only_admins_see_and_reprocess_the_quarantine(queue, admin, agent, api_as) -> None:
    quarantined = mail_ingest(raw=b"no headers at all")
    assert api_as(agent).get("/api/channels/inbound/?result=quarantined").json()["results"] == []
    refused = api_as(agent).post(f"/api/channels/inbound/{quarantined.inbound_id}/reprocess/")
    assert refused.status_code in (403, 404)
    rows = api_as(admin).get("/api/channels/inbound/?result=quarantined").json()["results"]
    assert [r["id"] for r in rows] == [quarantined.inbound_id]
    again = api_as(admin).post(f"/api/channels/inbound/{quarantined.inbound_id}/reprocess/")
    assert again.status_code == 200 and again.json()["result"] == "quarantined"


def test_a_user_without_a_role_gets_nothing(no_role_user, api_as) -> None:
    assert api_as(no_role_user).get("/api/channels/outbox/").status_code == 403
