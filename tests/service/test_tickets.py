"""Ticket use cases: numbers, workflow, locking, replies on solved/closed tickets, merge, split."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from stammkunde.core.errors import ApplicationError, ConflictError
from stammkunde.customers.models import Interaction
from stammkunde.service import services
from stammkunde.service.models import ALLOWED_TRANSITIONS, Message, RootCause, Status, Ticket

from ..commerce.factories import order
from ..customers.factories import CustomerFactory
from .factories import T0, category, queue, ticket

pytestmark = pytest.mark.django_db


def test_ticket_numbers_count_up_per_year() -> None:
    first, second = ticket(), ticket()
    assert first.number == "2026-000001"
    assert second.number == "2026-000002"


def test_unknown_sender_is_matched_to_the_customer_with_that_email() -> None:
    customer = CustomerFactory(emails=["greta@example.de"])
    created = ticket(customer=None, sender_email="Greta@Example.de")
    assert created.customer == customer


def test_unknown_sender_without_customer_stays_an_email_ticket() -> None:
    created = ticket(customer=None, sender_email="neu@example.org")
    assert created.customer is None and created.sender_email == "neu@example.org"


def test_a_ticket_needs_a_customer_or_a_sender() -> None:
    with pytest.raises(ApplicationError) as exc:
        services.ticket_create(actor=None, subject="x", body="y", queue=queue(), now=T0)
    assert "customer" in exc.value.field_errors


def test_a_return_links_its_order_line_and_the_order_and_product_follow() -> None:
    customer = CustomerFactory()
    placed = order(customer, "B100")
    line = placed.lines.get()
    created = ticket(customer=customer, type="return", links=services.TicketLinks(order_line=line))
    assert created.order == placed and created.product == line.product


def test_an_order_of_another_customer_is_refused_with_a_field_error() -> None:
    placed = order(CustomerFactory(), "B101")
    with pytest.raises(ApplicationError) as exc:
        ticket(customer=CustomerFactory(), links=services.TicketLinks(order=placed))
    assert "order" in exc.value.field_errors


def test_a_transition_outside_the_workflow_is_refused(agent) -> None:
    created = ticket()
    assert Status.CLOSED not in ALLOWED_TRANSITIONS[Status.NEW]
    with pytest.raises(ApplicationError, match="cannot go"):
        services.ticket_change(
            actor=agent, ticket=created, expected_version=1, status=Status.CLOSED
        )


def test_a_stale_save_is_refused_and_nothing_is_overwritten(agent, make_user) -> None:
    # given two agents who loaded version 1
    created = ticket()
    other = make_user("agent")
    services.ticket_change(actor=agent, ticket=created, expected_version=1, priority="high")
    # when the second saves with the old version
    with pytest.raises(ConflictError):
        services.ticket_change(
            actor=other, ticket=created, expected_version=1, priority="low", assignee=other
        )
    # then the first change stands
    created.refresh_from_db()
    assert created.priority == "high" and created.assignee is None and created.version == 2


def test_agent_reply_opens_the_ticket_assigns_the_agent_and_meets_first_response(agent) -> None:
    created = ticket()
    services.ticket_reply(
        actor=agent, ticket=created, body="Wir kümmern uns.", now=T0 + timedelta(minutes=30)
    )
    created.refresh_from_db()
    assert created.status == Status.OPEN
    assert created.assignee == agent
    assert created.first_response_at == T0 + timedelta(minutes=30)
    assert not created.first_response_breached


def test_customer_reply_to_a_solved_ticket_reopens_it(agent) -> None:
    created = ticket()
    services.ticket_reply(actor=agent, ticket=created, body="Gelöst", then_status="solved")
    message = services.ticket_reply(
        actor=None, ticket=created, body="Doch nicht!", from_customer=True
    )
    created.refresh_from_db()
    assert message.ticket_id == created.pk
    assert created.status == Status.REOPENED
    assert created.first_contact_resolved is False


def test_customer_reply_to_a_closed_ticket_opens_a_new_linked_ticket(agent) -> None:
    # given a closed ticket
    created = ticket()
    services.ticket_reply(actor=agent, ticket=created, body="Gelöst", then_status="solved")
    services.ticket_close(actor=agent, ticket=created, expected_version=None)
    # when the customer writes again
    message = services.ticket_reply(
        actor=None, ticket=created, body="Noch eine Frage", from_customer=True
    )
    # then a new ticket holds the message and points to the old one
    follow_up = message.ticket
    created.refresh_from_db()
    assert follow_up.pk != created.pk
    assert follow_up.follow_up_of == created
    assert created.status == Status.CLOSED
    assert follow_up.customer == created.customer


def test_agent_cannot_reply_publicly_on_a_closed_ticket_but_may_note(agent) -> None:
    created = ticket()
    services.ticket_reply(actor=agent, ticket=created, body="Gelöst", then_status="solved")
    services.ticket_close(actor=agent, ticket=created, expected_version=None)
    with pytest.raises(ApplicationError, match="closed"):
        services.ticket_reply(actor=agent, ticket=created, body="Hallo")
    note = services.ticket_reply(actor=agent, ticket=created, body="intern", kind="internal")
    assert note.kind == Message.Kind.INTERNAL


def test_solving_after_one_customer_contact_counts_as_first_contact_resolution(agent) -> None:
    created = ticket()
    solved = services.ticket_reply(
        actor=agent, ticket=created, body="Erledigt", then_status="solved"
    ).ticket
    solved.refresh_from_db()
    assert solved.first_contact_resolved is True


def test_closing_without_fcr_needs_a_root_cause_and_a_resolution(agent) -> None:
    # given a ticket with a second customer contact, then solved
    created = ticket()
    services.ticket_reply(
        actor=agent, ticket=created, body="Bitte Foto schicken", then_status="waiting_customer"
    )
    services.ticket_reply(actor=None, ticket=created, body="Foto anbei", from_customer=True)
    services.ticket_solve(actor=agent, ticket=created, expected_version=None)
    # when closing without root cause
    with pytest.raises(ApplicationError) as exc:
        services.ticket_close(actor=agent, ticket=created, expected_version=None)
    # then both fields are asked for, and with them it closes
    assert set(exc.value.field_errors) == {"root_cause", "resolution"}
    cause = RootCause.objects.create(name="Produktfehler")
    closed = services.ticket_close(
        actor=agent,
        ticket=created,
        expected_version=None,
        root_cause=cause,
        resolution="Kette getauscht",
    )
    assert closed.status == Status.CLOSED and closed.first_contact_resolved is False


def test_a_new_contact_about_the_same_order_within_seven_days_breaks_fcr(agent) -> None:
    # given an email ticket about an order, solved at first contact
    customer = CustomerFactory()
    placed = order(customer, "B200")
    first = ticket(customer=customer, channel="email", links=services.TicketLinks(order=placed))
    services.ticket_reply(
        actor=agent,
        ticket=first,
        body="Erledigt",
        then_status="solved",
        now=T0 + timedelta(hours=1),
    )
    # when the customer calls about the same order three days later
    second = ticket(
        customer=customer,
        channel="phone",
        links=services.TicketLinks(order=placed),
        now=T0 + timedelta(days=3),
    )
    # then the first ticket is no longer resolved at first contact
    first.refresh_from_db()
    assert first.first_contact_resolved is False
    assert second.follow_up_of == first


def test_a_contact_about_another_matter_keeps_fcr(agent) -> None:
    customer = CustomerFactory()
    first = ticket(customer=customer, category=category("Lieferung"))
    services.ticket_reply(actor=agent, ticket=first, body="Erledigt", then_status="solved")
    ticket(customer=customer, category=category("Rechnung"), now=T0 + timedelta(days=1))
    first.refresh_from_db()
    assert first.first_contact_resolved is True


def test_every_ticket_event_lands_on_the_customer_timeline(agent) -> None:
    created = ticket()
    services.ticket_reply(actor=agent, ticket=created, body="Antwort")
    services.ticket_reply(actor=agent, ticket=created, body="Notiz", kind="internal")
    services.ticket_change(actor=agent, ticket=created, expected_version=None, priority="high")
    kinds = set(
        Interaction.objects.filter(customer=created.customer).values_list("kind", flat=True)
    )
    assert {
        "ticket_created",
        "ticket_reply",
        "ticket_note",
        "ticket_status",
        "ticket_changed",
    } <= kinds


def test_an_attachment_over_the_limit_is_refused_with_a_clear_message(agent) -> None:
    created = ticket()
    big = SimpleUploadedFile("foto.png", b"x" * (services.MAX_ATTACHMENT_BYTES + 1))
    with pytest.raises(ApplicationError, match="at most 10 MB"):
        services.attachment_add(actor=agent, ticket=created, upload=big)


def test_an_attachment_of_a_forbidden_type_is_refused(agent) -> None:
    created = ticket()
    exe = SimpleUploadedFile("rechnung.exe", b"MZ....", content_type="application/pdf")
    with pytest.raises(ApplicationError) as exc:
        services.attachment_add(actor=agent, ticket=created, upload=exe)
    assert exc.value.code == "file_type" and "file" in exc.value.field_errors


def test_an_allowed_attachment_is_stored_through_django_storage(agent, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    created = ticket()
    stored = services.attachment_add(
        actor=agent, ticket=created, upload=SimpleUploadedFile("foto.png", b"\x89PNG...")
    )
    assert stored.content_type == "image/png" and stored.size == 7
    assert stored.file.read() == b"\x89PNG..."


def test_merge_moves_messages_and_closes_the_source(agent) -> None:
    customer = CustomerFactory()
    source, target = ticket(customer=customer), ticket(customer=customer)
    merged = services.ticket_merge(actor=agent, source=source, target=target)
    source.refresh_from_db()
    assert source.status == Status.CLOSED and source.merged_into == merged
    assert merged.messages.filter(direction="in").count() == 2


def test_tickets_of_different_customers_cannot_be_merged(agent) -> None:
    with pytest.raises(ApplicationError, match="different customers"):
        services.ticket_merge(actor=agent, source=ticket(), target=ticket())


def test_split_moves_chosen_messages_into_a_new_ticket(agent) -> None:
    created = ticket()
    second = services.ticket_reply(
        actor=None, ticket=created, body="Und die Rechnung fehlt", from_customer=True
    )
    new = services.ticket_split(
        actor=agent, ticket=created, message_ids=[second.pk], subject="Rechnung fehlt"
    )
    assert new.split_from == created
    assert list(new.messages.values_list("body", flat=True)) == ["Und die Rechnung fehlt"]
    assert created.messages.count() == 1


def test_ticket_visibility_follows_the_partner_of_the_queue(
    agent, partner, partner_agent, no_role_user
) -> None:
    own = ticket(q=queue("CallPro", partner=partner))
    other = ticket(q=queue("Intern"))
    assert set(Ticket.objects.visible_to(agent)) == {own, other}
    assert list(Ticket.objects.visible_to(partner_agent)) == [own]
    assert not Ticket.objects.visible_to(no_role_user).exists()
