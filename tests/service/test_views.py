"""The agent UI: inbox views and query budget, ticket page, reply, stale save, bulk actions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from stammkunde.knowledge.services import article_create
from stammkunde.service import services
from stammkunde.service.models import GoodwillGrant, ReplyTemplate, Status, Ticket

from ..commerce.factories import order
from ..customers.factories import CustomerFactory
from .factories import queue, ticket

pytestmark = pytest.mark.django_db


def test_the_inbox_shows_my_tickets_and_the_views(client, agent) -> None:
    mine = ticket(subject="Bremse quietscht", assignee=agent)
    ticket(subject="Nicht meins")
    client.force_login(agent)
    body = client.get(reverse("service:inbox")).content.decode()
    assert mine.number in body and "Nicht meins" not in body
    unassigned = client.get(reverse("service:inbox"), {"view": "unassigned"}).content.decode()
    assert "Nicht meins" in unassigned


@pytest.mark.parametrize("count", [3, 30])
def test_inbox_query_count_does_not_depend_on_the_page_size(
    client, agent, count, django_assert_max_num_queries
) -> None:
    for i in range(count):
        ticket(subject=f"Ticket {i}", assignee=agent)
    client.force_login(agent)
    client.get(reverse("service:inbox"))  # warm the session and role caches
    # 14 for the page, 2 for the audit of the customers it shows (one INSERT in a savepoint)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("service:inbox"), {"view": "open"})
    assert response.content.decode().count('name="ids"') == count


def test_inbox_search_with_htmx_returns_rows_only(client, agent) -> None:
    wanted = ticket(subject="Rahmen gebrochen")
    ticket(subject="Sattel")
    client.force_login(agent)
    response = client.get(
        reverse("service:inbox"), {"view": "open", "q": "Rahmen"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert wanted.number in body and "Sattel" not in body and "<html" not in body


def test_the_ticket_page_shows_the_customer_360_sidebar(client, agent) -> None:
    customer = CustomerFactory(first_name="Greta", last_name="Gärtner")
    customer.value_class = "A"
    customer.save()
    order(customer, "B4711")
    other_open = ticket(customer=customer, subject="Rechnung fehlt")
    created = ticket(customer=customer)
    client.force_login(agent)
    body = client.get(reverse("service:ticket", args=[created.pk])).content.decode()
    assert (
        "B4711" in body
        and other_open.number in body
        and "value class" in body.lower()
        or "Wertklasse" in body
    )


def test_ticket_page_query_count_is_bounded(client, agent, django_assert_max_num_queries) -> None:
    created = ticket()
    for i in range(10):
        services.ticket_reply(actor=agent, ticket=created, body=f"Antwort {i}")
    client.force_login(agent)
    client.get(reverse("service:ticket", args=[created.pk]))
    with django_assert_max_num_queries(30):
        client.get(reverse("service:ticket", args=[created.pk]))


def test_a_template_fills_the_reply_box(client, agent) -> None:
    customer = CustomerFactory(first_name="Greta", last_name="Gärtner")
    created = ticket(customer=customer)
    template = ReplyTemplate.objects.create(
        name="Dank", language="de", body="Hallo {customer_name}, zu {ticket_number}"
    )
    client.force_login(agent)
    response = client.get(
        reverse("service:template", args=[created.pk]),
        {"template": template.pk, "body": ""},
        HTTP_HX_REQUEST="true",
    )
    assert f"Hallo Greta Gärtner, zu {created.number}" in response.content.decode()


def test_an_agent_replies_with_an_article_and_solves_in_one_step(client, agent) -> None:
    created = ticket()
    article = article_create(actor=agent, title="Kette", body="Kette ölen")
    client.force_login(agent)
    response = client.post(
        reverse("service:reply", args=[created.pk]),
        {
            "body": "Kette ölen",
            "kind": "public",
            "then_status": "solved",
            "article_ids": str(article.pk),
        },
    )
    created.refresh_from_db()
    assert response.status_code == 302
    assert created.status == Status.SOLVED and created.articles.count() == 1


def test_a_forbidden_attachment_is_refused_with_a_message(client, agent) -> None:
    created = ticket()
    client.force_login(agent)
    response = client.post(
        reverse("service:reply", args=[created.pk]),
        {"body": "Anbei", "kind": "public", "file": SimpleUploadedFile("virus.exe", b"MZ")},
        follow=True,
    )
    assert (
        "not allowed" in response.content.decode() or "nicht erlaubt" in response.content.decode()
    )
    assert not created.attachments.exists()


def test_a_stale_save_is_refused_with_a_message_and_nothing_is_overwritten(client, agent) -> None:
    created = ticket()
    services.ticket_change(actor=agent, ticket=created, expected_version=1, priority="urgent")
    client.force_login(agent)
    response = client.post(
        reverse("service:change", args=[created.pk]),
        {
            "version": 1,
            "status": "open",
            "queue": created.queue_id,
            "priority": "low",
            "type": "inquiry",
        },
        follow=True,
    )
    created.refresh_from_db()
    assert created.priority == "urgent" and created.status == Status.NEW
    assert "version 2" in response.content.decode().lower()


def test_closing_without_root_cause_shows_the_field_errors(client, agent) -> None:
    created = ticket()
    services.ticket_reply(actor=None, ticket=created, body="Noch was", from_customer=True)
    services.ticket_solve(actor=agent, ticket=created, expected_version=None)
    created.refresh_from_db()
    client.force_login(agent)
    response = client.post(
        reverse("service:change", args=[created.pk]),
        {
            "version": created.version,
            "status": "closed",
            "queue": created.queue_id,
            "priority": "normal",
            "type": "inquiry",
        },
        follow=True,
    )
    created.refresh_from_db()
    assert created.status == Status.SOLVED
    assert "root cause" in response.content.decode() or "Ursache" in response.content.decode()


def test_bulk_assign_to_me(client, agent) -> None:
    first, second = ticket(), ticket()
    client.force_login(agent)
    client.post(reverse("service:bulk"), {"action": "assign_me", "ids": [first.pk, second.pk]})
    assert set(Ticket.objects.filter(assignee=agent)) == {first, second}


def test_goodwill_above_the_limit_then_a_team_lead_approves_in_the_ui(
    client, agent, make_user
) -> None:
    created = ticket()
    client.force_login(agent)
    client.post(
        reverse("service:goodwill", args=[created.pk]),
        {"kind": "voucher", "amount": "80", "reason": "Ärger"},
    )
    grant = GoodwillGrant.objects.get()
    assert grant.status == "requested"
    lead = make_user("team_lead")
    client.force_login(lead)
    inbox = client.get(reverse("service:inbox")).content.decode()
    assert created.number in inbox  # pending goodwill list
    client.post(reverse("service:goodwill_decide", args=[grant.pk]), {"decision": "approve"})
    grant.refresh_from_db()
    assert grant.status == "approved" and grant.amount == Decimal("80")


def test_an_agent_logs_a_phone_contact_as_a_new_ticket(client, agent) -> None:
    customer = CustomerFactory()
    q = queue()
    client.force_login(agent)
    response = client.post(
        reverse("service:create"),
        {
            "subject": "Anruf: Lieferung",
            "body": "Wo bleibt mein Rad?",
            "customer": customer.pk,
            "type": "inquiry",
            "channel": "phone",
            "priority": "normal",
            "queue": q.pk,
        },
    )
    created = Ticket.objects.get()
    assert response.status_code == 302 and created.channel == "phone"


def test_the_create_form_answers_field_errors_not_500(client, agent) -> None:
    client.force_login(agent)
    response = client.post(
        reverse("service:create"),
        {
            "subject": "x",
            "body": "y",
            "customer": 999999,
            "type": "inquiry",
            "channel": "phone",
            "priority": "normal",
            "queue": queue().pk,
        },
    )
    assert response.status_code == 200 and not Ticket.objects.exists()


def test_reports_show_fcr_and_sla(client, agent) -> None:
    created = ticket()
    services.ticket_reply(actor=agent, ticket=created, body="ok", then_status="solved")
    client.force_login(agent)
    response = client.get(reverse("service:reports"), {"days": 3650})
    assert response.status_code == 200 and "100 %" in response.content.decode()


def test_the_customer_page_has_a_tickets_panel_and_the_nav_a_service_item(client, agent) -> None:
    created = ticket()
    client.force_login(agent)
    body = client.get(reverse("customers:detail", args=[created.customer_id])).content.decode()
    assert 'id="panel-tickets"' in body and created.number in body
    assert reverse("service:inbox") in body


def test_notifications_show_in_the_inbox_until_marked_read(client, agent) -> None:
    from stammkunde.service.services.events import notify

    created = ticket()
    notify(user=agent, ticket=created, kind="sla_warning", text="SLA bald fällig")
    client.force_login(agent)
    assert "SLA bald fällig" in client.get(reverse("service:inbox")).content.decode()
    client.post(reverse("service:notifications_read"))
    assert "SLA bald fällig" not in client.get(reverse("service:inbox")).content.decode()


def test_an_agent_splits_a_message_off_into_a_new_ticket_in_the_ui(client, agent) -> None:
    created = ticket()
    second = services.ticket_reply(
        actor=None, ticket=created, body="Und die Rechnung fehlt", from_customer=True
    )
    client.force_login(agent)
    page = client.get(reverse("service:ticket", args=[created.pk])).content.decode()
    assert 'id="split-form"' in page
    response = client.post(
        reverse("service:split", args=[created.pk]),
        {"messages": [second.pk], "subject": "Rechnung fehlt"},
    )
    new = Ticket.objects.get(split_from=created)
    assert response.status_code == 302 and response["Location"].endswith(f"/{new.pk}/")
    assert new.subject == "Rechnung fehlt" and created.messages.count() == 1


def test_an_agent_links_an_unknown_sender_to_a_customer(client, agent) -> None:
    created = ticket(customer=None, sender_email="neu@example.org")
    customer = CustomerFactory()
    client.force_login(agent)
    form = {
        "version": created.version,
        "status": "new",
        "queue": created.queue_id,
        "priority": "normal",
        "type": "inquiry",
        "customer": 999999,
    }
    client.post(reverse("service:change", args=[created.pk]), form)
    created.refresh_from_db()
    assert created.customer is None
    client.post(reverse("service:change", args=[created.pk]), {**form, "customer": customer.pk})
    created.refresh_from_db()
    assert created.customer == customer
