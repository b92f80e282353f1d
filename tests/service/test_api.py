"""The ticket API: list, retrieve, create, patch, messages, attachments, SLA; 400 not 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from stammkunde.service.models import RootCause, Ticket

from ..commerce.factories import order
from ..customers.factories import CustomerFactory
from .factories import category, queue, ticket

pytestmark = pytest.mark.django_db


def test_an_agent_creates_a_return_ticket_for_an_order_line(api_as, agent) -> None:
    customer = CustomerFactory()
    line = order(customer, "B900").lines.get()
    response = api_as(agent).post(
        "/api/tickets/",
        {
            "subject": "Helm zurück",
            "body": "Passt nicht",
            "queue": queue().pk,
            "customer": customer.pk,
            "type": "return",
            "order_line": line.pk,
            "category": category().pk,
            "tags": ["Retoure"],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("20") and body["order"] == line.order_id
    assert body["tags"] == ["retoure"] and body["status"] == "new"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"subject": "x", "body": "y"}, "queue"),
        ({"subject": "x", "body": "y", "queue": 999999, "customer": 1}, "queue"),
        ({"subject": "x", "body": "y", "queue": "QUEUE"}, "queue"),
        ({"subject": "x", "body": "", "queue": 0}, "body"),
        ({"subject": "x", "body": "y", "queue": -1, "type": "spam"}, "type"),
    ],
)
def test_bad_input_answers_400_with_field_errors(api_as, agent, payload, field) -> None:
    queue()
    response = api_as(agent).post("/api/tickets/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_a_ticket_without_customer_or_sender_is_a_400(api_as, agent) -> None:
    response = api_as(agent).post(
        "/api/tickets/", {"subject": "x", "body": "y", "queue": queue().pk}, format="json"
    )
    assert response.status_code == 400 and "customer" in response.json()


def test_patch_changes_status_and_a_stale_version_is_409(api_as, agent) -> None:
    created = ticket()
    client = api_as(agent)
    ok = client.patch(
        f"/api/tickets/{created.pk}/",
        {"status": "open", "version": 1, "assignee": agent.pk},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(
        f"/api/tickets/{created.pk}/", {"priority": "low", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    assert Ticket.objects.get().priority == "normal"


def test_a_forbidden_transition_is_a_400_with_a_status_error(api_as, agent) -> None:
    created = ticket()
    response = api_as(agent).patch(
        f"/api/tickets/{created.pk}/", {"status": "closed"}, format="json"
    )
    assert response.status_code == 400 and "status" in response.json()


def test_closing_without_root_cause_is_a_400_then_works_with_one(api_as, agent) -> None:
    created = ticket()
    client = api_as(agent)
    client.post(
        f"/api/tickets/{created.pk}/messages/",
        {"body": "Mehr", "from_customer": True},
        format="json",
    )
    client.patch(f"/api/tickets/{created.pk}/", {"status": "solved"}, format="json")
    refused = client.patch(f"/api/tickets/{created.pk}/", {"status": "closed"}, format="json")
    assert refused.status_code == 400 and "root_cause" in refused.json()
    cause = RootCause.objects.create(name="Lager")
    closed = client.patch(
        f"/api/tickets/{created.pk}/",
        {"status": "closed", "root_cause": cause.pk, "resolution": "Nachgeliefert"},
        format="json",
    )
    assert closed.status_code == 200 and closed.json()["root_cause"] == "Lager"


def test_messages_list_and_reply(api_as, agent) -> None:
    created = ticket()
    client = api_as(agent)
    posted = client.post(
        f"/api/tickets/{created.pk}/messages/",
        {"body": "Wir prüfen das", "then_status": "waiting_customer"},
        format="json",
    )
    assert posted.status_code == 201 and posted.json()["direction"] == "out"
    listed = client.get(f"/api/tickets/{created.pk}/messages/").json()
    assert [m["direction"] for m in listed] == ["in", "out"]
    assert (
        client.post(f"/api/tickets/{created.pk}/messages/", {"body": ""}, format="json").status_code
        == 400
    )


def test_attachments_upload_limits_and_list(api_as, agent, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    created = ticket()
    client = api_as(agent)
    ok = client.post(
        f"/api/tickets/{created.pk}/attachments/",
        {"file": SimpleUploadedFile("beleg.pdf", b"%PDF-1.4")},
        format="multipart",
    )
    assert ok.status_code == 201 and ok.json()["content_type"] == "application/pdf"
    bad = client.post(
        f"/api/tickets/{created.pk}/attachments/",
        {"file": SimpleUploadedFile("x.sh", b"rm -rf")},
        format="multipart",
    )
    assert bad.status_code == 400 and "file" in bad.json()
    missing = client.post(f"/api/tickets/{created.pk}/attachments/", {}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()
    assert [a["name"] for a in client.get(f"/api/tickets/{created.pk}/attachments/").json()] == [
        "beleg.pdf"
    ]


def test_sla_state(api_as, agent) -> None:
    created = ticket()
    body = api_as(agent).get(f"/api/tickets/{created.pk}/sla/").json()
    assert body["paused"] is False and body["resolution_due"]


def test_list_filters_and_bad_filters(api_as, agent) -> None:
    created = ticket(subject="Schaltung hakt")
    ticket(subject="Anderes")
    client = api_as(agent)
    found = client.get("/api/tickets/", {"q": "Schaltung"}).json()["results"]
    assert [t["number"] for t in found] == [created.number]
    assert client.get("/api/tickets/", {"status": "nonsense"}).status_code == 400
    assert client.get("/api/tickets/", {"queue": "abc"}).status_code == 400


def test_an_analyst_reads_but_cannot_write(api_as, make_user) -> None:
    created = ticket()
    client = api_as(make_user("analyst"))
    assert client.get(f"/api/tickets/{created.pk}/").status_code == 200
    assert (
        client.patch(f"/api/tickets/{created.pk}/", {"priority": "low"}, format="json").status_code
        == 403
    )
