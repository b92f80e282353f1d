"""Invitations, answers and closing the loop (services)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Consent, EmailAddress, Interaction
from stammkunde.customers.services import consent_record
from stammkunde.feedback import services
from stammkunde.feedback.models import Answer, Invitation, Response
from stammkunde.feedback.services import InvitationSuppressed

from .conftest import consenting_customer, q

pytestmark = pytest.mark.django_db


def test_invitation_is_refused_without_feedback_consent(csat_survey, invite) -> None:
    # given
    from tests.customers.factories import CustomerFactory

    silent = CustomerFactory()
    # when / then
    with pytest.raises(InvitationSuppressed) as exc:
        invite(csat_survey, silent)
    assert exc.value.code == "no_consent"


def test_invitation_is_refused_after_consent_was_withdrawn(csat_survey, customer, invite) -> None:
    # given
    consent_record(
        actor=None, customer=customer, purpose=Consent.Purpose.FEEDBACK, channel="email",
        status=Consent.Status.WITHDRAWN, source="letter",
        at=timezone.now() + timedelta(seconds=1),
    )  # fmt: skip
    # when / then
    with pytest.raises(InvitationSuppressed) as exc:
        invite(csat_survey, customer)
    assert exc.value.code == "no_consent"


def test_invitation_is_refused_to_a_bounced_address(csat_survey, customer, invite) -> None:
    # given
    EmailAddress.objects.filter(customer=customer).update(undeliverable_at=timezone.now())
    # when / then
    with pytest.raises(InvitationSuppressed) as exc:
        invite(csat_survey, customer)
    assert exc.value.code == "undeliverable"


def test_min_gap_holds_across_all_surveys(csat_survey, nps_survey, customer, invite) -> None:
    # given
    now = timezone.now()
    invite(csat_survey, customer, now=now - timedelta(days=10))
    # when / then: another survey within 30 days is suppressed
    with pytest.raises(InvitationSuppressed) as exc:
        invite(nps_survey, customer, now=now, min_gap_days=30)
    assert exc.value.code == "min_gap"
    # and after the gap it is allowed
    assert invite(nps_survey, customer, now=now + timedelta(days=21), min_gap_days=30).pk


def test_invitation_mail_is_sent_after_commit_with_the_personal_link(
    csat_survey, customer, invite, django_capture_on_commit_callbacks
) -> None:
    # given
    invitation = invite(csat_survey, customer)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_send(invitation=invitation)
    # then
    assert len(mail.outbox) == 1
    assert "/feedback/s/" in mail.outbox[0].body
    assert mail.outbox[0].to == [customer.emails.first().address]
    invitation.refresh_from_db()
    assert invitation.sent_at is not None
    assert Interaction.objects.filter(customer=customer, kind="survey_invitation").exists()


def test_double_submit_stores_one_response(csat_survey, customer, invite) -> None:
    # given
    invitation = invite(csat_survey, customer)
    answers = {q(csat_survey, 1): 4}
    # when
    first = services.response_submit(answers=answers, invitation=invitation)
    second = services.response_submit(answers={q(csat_survey, 1): 1}, invitation=invitation)
    # then
    assert first.created and not second.created
    assert second.response.pk == first.response.pk
    assert Response.objects.count() == 1
    assert Answer.objects.get().value == 4


@pytest.mark.parametrize("value", [0, 6, "x", "4.5", -1, True, 4.5, "+4"])
def test_out_of_range_csat_is_refused(csat_survey, customer, invite, value) -> None:
    # given
    invitation = invite(csat_survey, customer)
    key = q(csat_survey, 1)
    # when / then
    with pytest.raises(ApplicationError) as exc:
        services.response_submit(answers={key: value}, invitation=invitation)
    assert key in exc.value.field_errors
    assert Response.objects.count() == 0


def test_required_question_must_be_answered_optional_may_stay_empty(
    csat_survey, customer, invite
) -> None:
    invitation = invite(csat_survey, customer)
    with pytest.raises(ApplicationError) as exc:
        services.response_submit(answers={q(csat_survey, 2): "nur Text"}, invitation=invitation)
    assert q(csat_survey, 1) in exc.value.field_errors
    assert services.response_submit(answers={q(csat_survey, 1): 5}, invitation=invitation).created


def test_expired_invitation_is_refused(csat_survey, customer, invite) -> None:
    invitation = invite(csat_survey, customer, expiry_days=1)
    with pytest.raises(ApplicationError) as exc:
        services.response_submit(
            answers={q(csat_survey, 1): 5},
            invitation=invitation,
            now=timezone.now() + timedelta(days=2),
        )
    assert exc.value.code == "expired"


def test_choice_answers_are_checked_against_the_offered_choices(nps_survey, customer) -> None:
    version = nps_survey.current_version
    with pytest.raises(ApplicationError) as exc:
        services.response_submit(
            answers={q(nps_survey, 1): 8, q(nps_survey, 3): "Gold"}, version=version,
            customer=customer, source=Response.Source.API,
        )  # fmt: skip
    assert q(nps_survey, 3) in exc.value.field_errors
    result = services.response_submit(
        answers={
            q(nps_survey, 1): 8, q(nps_survey, 3): "Preis",
            q(nps_survey, 4): ["Lieferung", "Werkstatt"],
        },
        version=version, customer=customer, source=Response.Source.API,
    )  # fmt: skip
    assert result.response.nps == 8


def test_detractor_opens_a_high_priority_follow_up_for_the_ticket_team(
    nps_survey, customer, invite, queue, make_user
) -> None:
    # given: a solved ticket handled by an agent
    from stammkunde.service.services import ticket_create

    agent = make_user("agent")
    source = ticket_create(
        actor=None, subject="Bremse quietscht", body="Hilfe", queue=queue, customer=customer,
        assignee=agent,
    )  # fmt: skip
    invitation = invite(nps_survey, customer, source_ticket=source)
    # when
    result = services.response_submit(
        answers={q(nps_survey, 1): 3, q(nps_survey, 5): "Sehr unfreundlich, nie wieder."},
        invitation=invitation,
    )
    # then
    ticket = result.response.follow_up_ticket
    assert ticket is not None
    assert ticket.priority == "high"
    assert ticket.type == "complaint"
    assert ticket.queue == queue and ticket.team == queue.team
    assert ticket.assignee == agent
    assert ticket.follow_up_of == source
    assert "NPS 3" in ticket.subject
    assert Interaction.objects.filter(customer=customer, kind="survey_response").exists()
    assert result.response.sentiment < 0


def test_csat_of_two_opens_a_follow_up_but_three_does_not(csat_survey, queue) -> None:
    unhappy, neutral = consenting_customer(), consenting_customer()
    version = csat_survey.current_version
    low = services.response_submit(
        answers={q(csat_survey, 1): 2}, version=version, customer=unhappy, source="api"
    )
    mid = services.response_submit(
        answers={q(csat_survey, 1): 3}, version=version, customer=neutral, source="api"
    )
    assert low.response.follow_up_ticket is not None
    assert mid.response.follow_up_ticket is None


def test_promoter_is_asked_for_a_referral(
    nps_survey, customer, django_capture_on_commit_callbacks
) -> None:
    # given: marketing consent, so the ask may go by mail
    consent_record(
        actor=None, customer=customer, purpose=Consent.Purpose.MARKETING, channel="email",
        status=Consent.Status.GRANTED, source="checkout",
    )  # fmt: skip
    # when
    with django_capture_on_commit_callbacks(execute=True):
        result = services.response_submit(
            answers={q(nps_survey, 1): 10}, version=nps_survey.current_version,
            customer=customer, source="api",
        )  # fmt: skip
    # then
    assert result.response.follow_up_ticket is None
    assert Interaction.objects.filter(customer=customer, kind="referral_ask").exists()
    assert len(mail.outbox) == 1


def test_api_retry_with_the_same_idempotency_key_stores_one(nps_survey, customer) -> None:
    kwargs = dict(
        answers={q(nps_survey, 1): 7}, version=nps_survey.current_version, customer=customer,
        source="api", idempotency_key="pos-1-4711",
    )  # fmt: skip
    assert services.response_submit(**kwargs).created
    assert not services.response_submit(**kwargs).created
    assert Response.objects.count() == 1


def test_publishing_freezes_the_wording_answers_keep_their_version(csat_survey, customer) -> None:
    # given: an answer to v1
    v1 = csat_survey.current_version
    services.response_submit(
        answers={q(csat_survey, 1): 5}, version=v1, customer=customer, source="api"
    )
    # when: the wording changes and is published
    services.survey_update(
        actor=None, survey=csat_survey, data={},
        questions=[
            {"type": "csat", "text_de": "Wie zufrieden sind Sie insgesamt?", "text_en": "Overall?"}
        ],
    )  # fmt: skip
    v2 = services.survey_publish(actor=None, survey=csat_survey)
    # then
    assert v2.number == 2
    assert v1.questions.get(order=1).text_de == "Zufriedenheit?"
    assert Response.objects.get().version == v1
    assert v2.questions.get().text_de == "Wie zufrieden sind Sie insgesamt?"


def test_survey_needs_valid_questions() -> None:
    with pytest.raises(ApplicationError) as exc:
        services.survey_create(
            actor=None, name="X", title_de="X",
            questions=[{"type": "single", "text_de": "Nur eine Wahl", "choices": "A"}],
        )  # fmt: skip
    assert "questions" in exc.value.field_errors


def test_run_triggers_invites_after_solved_tickets_once(
    csat_survey, customer, queue, django_capture_on_commit_callbacks
) -> None:
    # given: a solved ticket and a trigger one day after solving
    from stammkunde.service.services import ticket_create, ticket_solve

    services.trigger_create(actor=None, survey=csat_survey, event="ticket_solved", delay_days=1)
    ticket = ticket_create(
        actor=None, subject="Platten", body="Reifen", queue=queue, customer=customer
    )
    ticket_solve(actor=None, ticket=ticket, expected_version=None)
    assert not Invitation.objects.exists()  # with a delay the solve itself invites nobody
    # when: run twice, a day later
    with django_capture_on_commit_callbacks(execute=True):
        first = services.triggers_run(now=timezone.now() + timedelta(days=1, minutes=1))
        second = services.triggers_run(now=timezone.now() + timedelta(days=1, minutes=2))
    # then
    assert first["sent"] == 1 and second["sent"] == 0
    invitation = Invitation.objects.get()
    assert invitation.source_ticket == ticket
    assert len(mail.outbox) == 1


def test_run_triggers_counts_suppressed_customers(csat_survey, queue) -> None:
    from stammkunde.service.services import ticket_create, ticket_solve
    from tests.customers.factories import CustomerFactory

    services.trigger_create(actor=None, survey=csat_survey, event="ticket_solved")
    ticket = ticket_create(
        actor=None, subject="Licht", body="kaputt", queue=queue, customer=CustomerFactory()
    )
    ticket_solve(actor=None, ticket=ticket, expected_version=None)
    counts = services.triggers_run(now=timezone.now() + timedelta(minutes=1))
    assert counts == {"sent": 0, "no_consent": 1}


def test_run_triggers_n_days_after_an_order(nps_survey, customer) -> None:
    from tests.commerce.factories import order

    services.trigger_create(actor=None, survey=nps_survey, event="order", delay_days=7)
    placed = order(customer, "B100")
    assert services.triggers_run(now=placed.ordered_at + timedelta(days=3))["sent"] == 0
    assert services.triggers_run(now=placed.ordered_at + timedelta(days=8))["sent"] == 1
    assert Invitation.objects.get().source_order == placed


def test_periodic_relationship_survey_reaches_buying_consenting_customers(
    nps_survey, customer
) -> None:
    from tests.commerce.factories import order

    order(customer, "B200")
    consenting_customer()  # a prospect: never bought, not surveyed
    services.trigger_create(actor=None, survey=nps_survey, event="periodic", period_days=180)
    assert services.triggers_run()["sent"] == 1
    assert services.triggers_run()["sent"] == 0
