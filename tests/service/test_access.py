"""Partner agents see and touch only tickets of their partner's queues, on every path.

Each endpoint is probed with a partner agent of another partner and with a user
without a role: the answer is 404 (or 403), never the data.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from stammkunde.core.models import ServicePartner
from stammkunde.service import services
from stammkunde.service.models import Ticket

from .factories import queue, ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(agent, partner, partner_agent, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    own = ticket(q=queue("CallPro Support", partner=partner), subject="Eigenes Ticket")
    foreign = ticket(q=queue("Intern"), subject="Fremdes Ticket")
    other_partner = ServicePartner.objects.create(name="Andere GmbH")
    other_agent = make_user("partner_agent", partner=other_partner)
    file = services.attachment_add(
        actor=agent, ticket=foreign, upload=SimpleUploadedFile("geheim.pdf", b"%PDF")
    )
    own_file = services.attachment_add(
        actor=agent, ticket=own, upload=SimpleUploadedFile("ok.pdf", b"%PDF")
    )
    return {
        "own": own,
        "foreign": foreign,
        "file": file,
        "own_file": own_file,
        "other_agent": other_agent,
    }


def _ui_paths(t: Ticket) -> list[tuple[str, str]]:
    return [
        ("get", reverse("service:ticket", args=[t.pk])),
        ("get", reverse("service:template", args=[t.pk])),
        ("post", reverse("service:reply", args=[t.pk])),
        ("post", reverse("service:change", args=[t.pk])),
        ("post", reverse("service:goodwill", args=[t.pk])),
        ("post", reverse("service:handover", args=[t.pk])),
        ("post", reverse("service:macro", args=[t.pk])),
        ("post", reverse("service:merge", args=[t.pk])),
        ("post", reverse("service:split", args=[t.pk])),
    ]


def test_partner_agent_gets_404_on_every_page_of_another_queues_ticket(
    client, setup, partner_agent
) -> None:
    client.force_login(partner_agent)
    foreign = setup["foreign"]
    for method, path in _ui_paths(foreign):
        response = getattr(client, method)(path, {"body": "x", "note": "x"})
        assert response.status_code == 404, path
        assert "Fremdes Ticket" not in response.content.decode()
    assert client.get(reverse("service:attachment", args=[setup["file"].pk])).status_code == 404
    assert client.get(reverse("customers:detail", args=[foreign.customer_id])).status_code == 404


def test_partner_agent_works_on_its_own_tickets(client, setup, partner_agent) -> None:
    client.force_login(partner_agent)
    own = setup["own"]
    assert client.get(reverse("service:ticket", args=[own.pk])).status_code == 200
    client.post(reverse("service:reply", args=[own.pk]), {"body": "Hallo", "kind": "public"})
    assert own.messages.filter(direction="out").exists()
    download = client.get(reverse("service:attachment", args=[setup["own_file"].pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF"
    assert client.get(reverse("customers:detail", args=[own.customer_id])).status_code == 200


def test_partner_agent_lists_and_searches_only_its_queues(client, setup, partner_agent) -> None:
    client.force_login(partner_agent)
    for view in ("open", "unassigned", "breaching", "waiting", "all"):
        body = client.get(reverse("service:inbox"), {"view": view}).content.decode()
        assert "Fremdes Ticket" not in body
    search = client.get(reverse("service:inbox"), {"view": "open", "q": "Fremdes"}).content
    assert b"Fremdes Ticket" not in search
    by_number = client.get(
        reverse("service:inbox"), {"view": "open", "q": setup["foreign"].number}
    ).content
    assert f'data-ticket="{setup["foreign"].number}"'.encode() not in by_number
    assert b"Eigenes Ticket" in client.get(reverse("service:inbox"), {"view": "open"}).content
    reports = client.get(reverse("service:reports")).content.decode()
    assert "Intern" not in reports


def test_partner_agent_bulk_actions_skip_foreign_tickets(client, setup, partner_agent) -> None:
    client.force_login(partner_agent)
    client.post(reverse("service:bulk"), {"action": "assign_me", "ids": [setup["foreign"].pk]})
    setup["foreign"].refresh_from_db()
    assert setup["foreign"].assignee is None


def test_partner_agent_cannot_merge_into_a_foreign_ticket(client, setup, partner_agent) -> None:
    client.force_login(partner_agent)
    client.post(
        reverse("service:merge", args=[setup["own"].pk]), {"target": setup["foreign"].number}
    )
    setup["own"].refresh_from_db()
    assert setup["own"].merged_into is None


@pytest.mark.parametrize("who", ["partner_agent", "other_agent", "no_role_user"])
def test_the_api_answers_404_for_a_ticket_the_user_may_not_see(who, request, setup, api_as) -> None:
    user = setup["other_agent"] if who == "other_agent" else request.getfixturevalue(who)
    client = api_as(user)
    foreign = setup["foreign"]
    base = f"/api/tickets/{foreign.pk}/"
    for method, path, data in [
        ("get", base, None),
        ("patch", base, {"priority": "low"}),
        ("get", base + "messages/", None),
        ("post", base + "messages/", {"body": "x"}),
        ("get", base + "attachments/", None),
        ("get", base + "sla/", None),
    ]:
        response = getattr(client, method)(path, data, format="json")
        assert response.status_code in (403, 404), (method, path)
        assert "Fremdes" not in response.content.decode()
    upload = client.post(
        base + "attachments/", {"file": SimpleUploadedFile("a.pdf", b"%PDF")}, format="multipart"
    )
    assert upload.status_code in (403, 404)
    listing = client.get("/api/tickets/", {"q": "Fremdes"})
    assert "Fremdes" not in listing.content.decode()


def test_the_api_gives_a_partner_agent_its_own_tickets_only(api_as, setup, partner_agent) -> None:
    client = api_as(partner_agent)
    numbers = [t["number"] for t in client.get("/api/tickets/").json()["results"]]
    assert numbers == [setup["own"].number]
    own = setup["own"]
    assert client.get(f"/api/tickets/{own.pk}/attachments/").status_code == 200
    assert (
        client.post(
            f"/api/tickets/{own.pk}/messages/", {"body": "Hallo"}, format="json"
        ).status_code
        == 201
    )


def test_a_partner_agent_cannot_create_a_ticket_in_a_foreign_queue(
    api_as, setup, partner_agent
) -> None:
    response = api_as(partner_agent).post(
        "/api/tickets/",
        {
            "subject": "x",
            "body": "y",
            "queue": setup["foreign"].queue_id,
            "sender_email": "a@example.org",
        },
        format="json",
    )
    assert response.status_code == 400 and "queue" in response.json()


def test_a_user_without_role_gets_403_on_the_inbox(client, no_role_user) -> None:
    client.force_login(no_role_user)
    assert client.get(reverse("service:inbox")).status_code == 403
    assert client.get(reverse("service:reports")).status_code == 403


def test_anonymous_users_are_sent_to_login(client, setup) -> None:
    response = client.get(reverse("service:ticket", args=[setup["own"].pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]
