"""The survey loop closes: solving a ticket invites by the survey rules; the ticket says so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from stammkunde.feedback import services
from stammkunde.feedback.models import Invitation
from stammkunde.feedback.tokens import survey_url
from stammkunde.service.models import Ticket
from stammkunde.service.services import ticket_create, ticket_solve
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _ticket(customer, queue) -> Ticket:
    return ticket_create(
        actor=None, subject="Platten", body="Reifen", queue=queue, customer=customer
    )


def test_solving_a_ticket_sends_the_csat_invitation_at_once(
    csat_survey, customer, queue, django_capture_on_commit_callbacks
) -> None:
    services.trigger_create(actor=None, survey=csat_survey, event="ticket_solved")
    ticket = _ticket(customer, queue)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_solve(actor=None, ticket=ticket, expected_version=None)
    invitation = Invitation.objects.get()
    assert invitation.source_ticket_id == ticket.pk and invitation.sent_at is not None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [invitation.email]
    # the hourly run does not invite a second time
    assert services.triggers_run(now=timezone.now() + timedelta(minutes=5))["sent"] == 0


def test_a_customer_without_consent_gets_no_invitation_and_the_ticket_stays_solved(
    csat_survey, queue
) -> None:
    services.trigger_create(actor=None, survey=csat_survey, event="ticket_solved")
    ticket = _ticket(CustomerFactory(), queue)
    solved = ticket_solve(actor=None, ticket=ticket, expected_version=None)
    assert solved.status == "solved" and not Invitation.objects.exists()


def test_the_ticket_page_shows_the_survey_sent(
    client, agent, csat_survey, customer, queue, django_capture_on_commit_callbacks
) -> None:
    services.trigger_create(actor=None, survey=csat_survey, event="ticket_solved")
    ticket = _ticket(customer, queue)
    client.force_login(agent)
    before = client.get(reverse("service:ticket", args=[ticket.pk])).content.decode()
    assert 'data-state="waiting"' in before and "gesendet, sobald das Ticket gelöst ist" in before
    with django_capture_on_commit_callbacks(execute=True):
        ticket_solve(actor=None, ticket=ticket, expected_version=None)
    page = client.get(reverse("service:ticket", args=[ticket.pk])).content.decode()
    assert 'data-state="sent"' in page and "Umfrage „CSAT nach Ticket“ gesendet am" in page


def test_the_ticket_page_shows_the_survey_planned_with_a_delay(
    client, agent, csat_survey, customer, queue
) -> None:
    services.trigger_create(actor=None, survey=csat_survey, event="ticket_solved", delay_days=2)
    ticket = _ticket(customer, queue)
    ticket_solve(actor=None, ticket=ticket, expected_version=None)
    client.force_login(agent)
    page = client.get(reverse("service:ticket", args=[ticket.pk])).content.decode()
    assert 'data-state="planned"' in page and "geplant für" in page


def test_the_ticket_page_says_why_no_survey_was_sent(client, agent, csat_survey, queue) -> None:
    services.trigger_create(actor=None, survey=csat_survey, event="ticket_solved")
    ticket = _ticket(CustomerFactory(), queue)
    ticket_solve(actor=None, ticket=ticket, expected_version=None)
    client.force_login(agent)
    page = client.get(reverse("service:ticket", args=[ticket.pk])).content.decode()
    assert 'data-state="refused"' in page and "Keine Umfrage" in page


def test_without_a_survey_rule_the_ticket_page_says_nothing(client, agent, customer, queue) -> None:
    ticket = _ticket(customer, queue)
    client.force_login(agent)
    page = client.get(reverse("service:ticket", args=[ticket.pk])).content.decode()
    assert 'id="ticket-survey"' not in page


def test_staff_see_the_surveys_with_their_invitations_and_public_links(
    client, agent, csat_survey, customer, queue
) -> None:
    services.trigger_create(actor=None, survey=csat_survey, event="ticket_solved")
    ticket = _ticket(customer, queue)
    ticket_solve(actor=None, ticket=ticket, expected_version=None)
    invitation = Invitation.objects.get()
    client.force_login(agent)
    listing = client.get(reverse("feedback:surveys")).content.decode()
    assert reverse("feedback:survey", args=[csat_survey.pk]) in listing
    assert 'data-invitations="1"' in listing
    detail = client.get(reverse("feedback:survey", args=[csat_survey.pk])).content.decode()
    link = survey_url(invitation.key)
    assert 'id="invitations"' in detail and link in detail and ticket.number in detail
    # the link is the customer's public page
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.get("/" + path).status_code == 200
