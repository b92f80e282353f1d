"""Webhooks for what other apps do: tickets, loyalty points and churn risk (through core.hooks)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from stammkunde.analytics.orm import CustomerScore
from stammkunde.analytics.services import scoring_run
from stammkunde.channels.services import contact_form_submit
from stammkunde.dataio.models import WebhookDelivery, WebhookSubscription
from stammkunde.dataio.services.webhooks import webhook_emit, webhook_subscription_create
from stammkunde.demo.generator import demo_generate
from stammkunde.loyalty.models import PointsEntry
from stammkunde.loyalty.services import points_earn
from stammkunde.service import services as service
from stammkunde.service.models import Status

from ..customers.factories import CustomerFactory
from ..loyalty import factories as loyalty
from ..service import factories as desk

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribed(admin: Any) -> WebhookSubscription:
    """A receiver of every event (never reached: on-commit sending does not run in tests)."""
    return webhook_subscription_create(
        actor=admin,
        name="CRM",
        url="http://127.0.0.1:9/hook",
        events=["*"],
        allow_private_network=True,
    )


def _iso(moment: datetime) -> str:
    """``moment`` as the JSON payload writes it (milliseconds, "Z")."""
    return str(DjangoJSONEncoder().default(moment))


def _data(event: str) -> list[dict[str, Any]]:
    """Return the ``data`` of every delivery of ``event``, oldest first."""
    return [d.payload["data"] for d in WebhookDelivery.objects.filter(event=event).order_by("id")]


# --- tickets ----------------------------------------------------------------------------


def test_creating_a_ticket_sends_ticket_created_with_its_ids(subscribed) -> None:
    # given
    customer = CustomerFactory()
    # when
    ticket = desk.ticket(customer=customer, channel="phone", type="complaint")
    # then
    (data,) = _data("ticket.created")
    assert data == {
        "items": [
            {
                "id": ticket.pk,
                "number": ticket.number,
                "customer_id": customer.pk,
                "type": "complaint",
                "channel": "phone",
                "priority": "normal",
                "status": "new",
                "created_at": _iso(ticket.created_at),
            }
        ]
    }
    delivery = WebhookDelivery.objects.get(event="ticket.created")
    assert delivery.subscription == subscribed and delivery.status == "pending"


def test_a_ticket_from_the_web_form_sends_ticket_created(subscribed) -> None:
    # given
    desk.queue("Kundenservice")
    # when
    ticket = contact_form_submit(
        name="Erika Muster", email="erika@example.de", type="complaint", message="Kette springt."
    )
    # then
    (data,) = _data("ticket.created")
    assert data["items"][0]["number"] == ticket.number
    assert data["items"][0]["channel"] == "web"


def test_splitting_a_ticket_sends_ticket_created_for_the_new_one(subscribed, agent) -> None:
    # given a ticket with a second customer message about another matter
    ticket = desk.ticket()
    second = service.ticket_reply(
        actor=None, ticket=ticket, body="Und die Rechnung fehlt", from_customer=True
    )
    # when
    new = service.ticket_split(
        actor=agent, ticket=ticket, message_ids=[second.pk], subject="Rechnung fehlt"
    )
    # then
    numbers = [d["items"][0]["number"] for d in _data("ticket.created")]
    assert numbers == [ticket.number, new.number]


def test_a_customer_message_on_a_closed_ticket_sends_ticket_created_for_the_follow_up(
    subscribed, agent
) -> None:
    # given a ticket solved at first contact and closed
    ticket = desk.ticket()
    ticket = service.ticket_solve(actor=agent, ticket=ticket, expected_version=ticket.version)
    ticket = service.ticket_close(actor=agent, ticket=ticket, expected_version=ticket.version)
    # when
    message = service.ticket_reply(
        actor=None, ticket=ticket, body="Die Kette springt wieder.", from_customer=True
    )
    # then
    numbers = [d["items"][0]["number"] for d in _data("ticket.created")]
    assert numbers == [ticket.number, message.ticket.number]
    assert message.ticket.pk != ticket.pk


def test_solving_a_ticket_sends_ticket_solved(subscribed, agent) -> None:
    # given
    ticket = desk.ticket()
    # when
    solved = service.ticket_solve(
        actor=agent, ticket=ticket, expected_version=ticket.version, resolution="Kette getauscht"
    )
    # then
    (data,) = _data("ticket.solved")
    item = data["items"][0]
    assert (item["id"], item["number"], item["status"]) == (ticket.pk, ticket.number, "solved")
    assert item["first_contact_resolved"] is True
    assert item["solved_at"] == _iso(solved.solved_at)


def test_a_reply_that_solves_the_ticket_sends_ticket_solved(subscribed, agent) -> None:
    # given
    ticket = desk.ticket()
    # when
    service.ticket_reply(actor=agent, ticket=ticket, body="Erledigt.", then_status=Status.SOLVED)
    # then
    assert [d["items"][0]["id"] for d in _data("ticket.solved")] == [ticket.pk]


def test_other_status_changes_send_no_ticket_solved(subscribed, agent) -> None:
    # given
    ticket = desk.ticket()
    # when
    service.ticket_change(
        actor=agent, ticket=ticket, expected_version=ticket.version, status=Status.OPEN
    )
    # then
    assert _data("ticket.solved") == []


def test_a_rolled_back_ticket_leaves_no_delivery(subscribed) -> None:
    # when
    with transaction.atomic():
        desk.ticket()
        assert WebhookDelivery.objects.filter(event="ticket.created").exists()
        transaction.set_rollback(True)
    # then
    assert not WebhookDelivery.objects.exists()


def test_without_a_subscription_tickets_write_no_delivery(db, agent) -> None:
    # when
    ticket = desk.ticket()
    service.ticket_solve(actor=agent, ticket=ticket, expected_version=ticket.version)
    # then
    assert not WebhookDelivery.objects.exists()


# --- loyalty points ---------------------------------------------------------------------


def test_earning_points_sends_points_changed_with_the_entry(subscribed) -> None:
    # given
    account = loyalty.account()
    WebhookDelivery.objects.all().delete()  # whatever enrolling booked
    # when
    booking = points_earn(account=account, points=120, idempotency_key="pos-1")
    # then
    entry = PointsEntry.objects.get(pk=booking.entry.pk)
    (data,) = _data("points.changed")
    assert data == {
        "items": [
            {
                "entry_id": entry.pk,
                "account_id": account.pk,
                "card_number": account.card_number,
                "customer_id": account.customer_id,
                "kind": "earn",
                "points": 120,
                "balance_after": entry.balance_after,
                "created_at": _iso(entry.created_at),
            }
        ]
    }


def test_a_replayed_booking_sends_nothing_again(subscribed) -> None:
    # given
    account = loyalty.account()
    points_earn(account=account, points=120, idempotency_key="pos-1")
    sent = WebhookDelivery.objects.filter(event="points.changed").count()
    # when
    points_earn(account=account, points=120, idempotency_key="pos-1")
    # then
    assert WebhookDelivery.objects.filter(event="points.changed").count() == sent


def test_a_rolled_back_booking_leaves_no_delivery(subscribed) -> None:
    # given
    account = loyalty.account()
    WebhookDelivery.objects.all().delete()
    # when
    with transaction.atomic():
        points_earn(account=account, points=120, idempotency_key="pos-1")
        transaction.set_rollback(True)
    # then
    assert not WebhookDelivery.objects.exists()


def test_without_a_subscription_a_booking_writes_no_delivery(db) -> None:
    # when
    points_earn(account=loyalty.account(), points=120, idempotency_key="pos-1")
    # then
    assert not WebhookDelivery.objects.exists()


def test_an_event_nobody_wants_costs_one_query(admin, django_assert_num_queries) -> None:
    # given a subscription for other events and an inactive one for this event
    webhook_subscription_create(
        actor=admin,
        name="CRM",
        url="http://127.0.0.1:9/",
        events=["customer.created"],
        allow_private_network=True,
    )
    off = webhook_subscription_create(
        actor=admin,
        name="Off",
        url="http://127.0.0.1:9/",
        events=["points.changed"],
        allow_private_network=True,
    )
    WebhookSubscription.objects.filter(pk=off.pk).update(active=False)

    def payload() -> dict[str, Any]:
        raise AssertionError("the payload is built only for a subscriber")

    # when / then
    with django_assert_num_queries(1):
        assert webhook_emit(event="points.changed", payload=payload) == []


# --- churn risk -------------------------------------------------------------------------

END = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)
YESTERDAY, TODAY = date(2026, 6, 29), date(2026, 6, 30)


@pytest.fixture
def scored_yesterday() -> None:
    """The demo shop, scored as of yesterday."""
    demo_generate(customers=600, seed=3, end=END, chunk_size=300)
    scoring_run(as_of=YESTERDAY)


def test_a_risk_rising_into_a_higher_band_sends_one_churn_risk_raised(
    scored_yesterday, subscribed
) -> None:
    # given everyone was at low risk yesterday
    CustomerScore.objects.filter(scored_at=YESTERDAY).update(churn_risk=0.05)
    # when
    scoring_run(as_of=TODAY)
    # then one delivery carries every customer now at medium or high risk
    (data,) = _data("churn_risk.raised")
    risen = CustomerScore.objects.filter(scored_at=TODAY, churn_risk__gte=0.75)
    assert risen.exists()
    assert {i["customer_id"] for i in data["items"]} == set(
        risen.values_list("customer_id", flat=True)
    )
    score = risen.select_related("customer").order_by("-churn_risk").first()
    assert score is not None
    item = next(i for i in data["items"] if i["customer_id"] == score.customer_id)
    assert item == {
        "customer_id": score.customer_id,
        "number": score.customer.number,
        "scored_at": "2026-06-30",
        "from_band": "low",
        "to_band": "high" if score.churn_risk >= 0.9 else "medium",
        "from_risk": 0.05,
        "to_risk": round(score.churn_risk, 4),
    }


def test_a_risk_that_stays_in_its_band_or_falls_sends_nothing(scored_yesterday, subscribed) -> None:
    # given everyone was at high risk yesterday
    CustomerScore.objects.filter(scored_at=YESTERDAY).update(churn_risk=0.99)
    # when
    scoring_run(as_of=TODAY)
    # then
    assert _data("churn_risk.raised") == []


def test_rescoring_the_same_day_announces_no_rise_twice(scored_yesterday, subscribed) -> None:
    # given
    CustomerScore.objects.filter(scored_at=YESTERDAY).update(churn_risk=0.05)
    scoring_run(as_of=TODAY)
    # when
    scoring_run(as_of=TODAY)
    # then
    assert len(_data("churn_risk.raised")) == 1


def test_a_first_score_sends_no_churn_risk_raised(subscribed) -> None:
    # given
    demo_generate(customers=600, seed=3, end=END, chunk_size=300)
    # when
    scoring_run(as_of=TODAY)
    # then
    assert _data("churn_risk.raised") == []
