"""The churn model's service signals come from the service desk's own selector."""

from __future__ import annotations

from datetime import date, timedelta

from stammkunde.analytics import selectors
from stammkunde.analytics.scoring import signal_features
from stammkunde.service import services
from stammkunde.service.models import Status, Ticket

from ..customers.factories import CustomerFactory
from ..service.factories import T0, ticket

AS_OF: date = (T0 + timedelta(days=10)).date()


def _signals() -> object:
    return signal_features(selectors.signal_events(as_of=AS_OF), as_of=AS_OF)


def test_a_ticket_reopened_by_the_customer_counts_in_reopened_90d(db: None) -> None:
    # given: one ticket solved and reopened by the customer's answer, one only solved
    reopened_by, solved_for = CustomerFactory(), CustomerFactory()
    first = ticket(customer=reopened_by)
    services.ticket_solve(actor=None, ticket=first, expected_version=None)
    services.ticket_reply(
        actor=None,
        ticket=first,
        body="Die Kette springt immer noch.",
        from_customer=True,
        now=T0 + timedelta(days=1),
    )
    assert Ticket.objects.get(pk=first.pk).status == Status.REOPENED
    other = ticket(customer=solved_for)
    services.ticket_solve(actor=None, ticket=other, expected_version=None)
    # when
    signals = _signals()
    # then
    assert signals.loc[reopened_by.pk, "reopened_90d"] == 1
    assert signals.loc[solved_for.pk, "reopened_90d"] == 0
    assert signals.loc[reopened_by.pk, "tickets_90d"] == 1


def test_complaints_breaches_and_failed_first_contacts_are_counted(db: None) -> None:
    # given
    customer = CustomerFactory()
    complaint = ticket(customer=customer, type=Ticket.Type.CLAIM)
    Ticket.objects.filter(pk=complaint.pk).update(resolution_breached=True)
    services.ticket_reply(
        actor=None, ticket=complaint, body="Noch einmal.", from_customer=True, now=T0
    )
    services.ticket_solve(actor=None, ticket=complaint, expected_version=None)
    # when
    signals = _signals()
    # then
    assert signals.loc[customer.pk, "complaints_90d"] == 1
    assert signals.loc[customer.pk, "sla_breaches_90d"] == 1
    assert signals.loc[customer.pk, "fcr_failed_90d"] == 1
    assert signals.loc[customer.pk, "reopened_90d"] == 0
