"""Outgoing webhooks against a real HTTP server on localhost (no mocks)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from stammkunde.dataio.models import WebhookDelivery, WebhookSubscription
from stammkunde.dataio.services.webhooks import (
    MAX_ATTEMPTS,
    webhook_deliver_due,
    webhook_emit,
    webhook_resend,
    webhook_subscription_create,
)

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP server that records requests and answers with ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def subscription(receiver: Receiver, admin: Any) -> WebhookSubscription:
    return webhook_subscription_create(
        actor=admin,
        name="CRM",
        url=receiver.url,
        events=["order.imported"],
        secret="s3cret",
        allow_private_network=True,  # the receiver listens on loopback
    )


def test_an_event_is_delivered_after_commit_with_a_valid_signature(
    subscription, receiver, django_capture_on_commit_callbacks
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        webhook_emit(event="order.imported", payload={"items": [{"number": "B1"}]})
    # then
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers, body = request["headers"], request["body"]
    expected = hmac.new(
        b"s3cret", f"{headers['X-Stammkunde-Timestamp']}.".encode() + body, hashlib.sha256
    )
    assert headers["X-Stammkunde-Signature"] == f"sha256={expected.hexdigest()}"
    assert headers["X-Stammkunde-Event"] == "order.imported"
    assert json.loads(body)["data"] == {"items": [{"number": "B1"}]}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)


def test_nothing_is_sent_when_the_transaction_rolls_back(subscription, receiver) -> None:
    from django.db import transaction

    with transaction.atomic():
        webhook_emit(event="order.imported", payload={})
        transaction.set_rollback(True)
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


def test_events_without_a_subscription_create_no_delivery(subscription) -> None:
    assert webhook_emit(event="customer.created", payload={}) == []


def test_a_failing_receiver_is_retried_with_growing_back_off(subscription, receiver) -> None:
    # given a receiver that answers 500
    receiver.status = 500
    delivery = webhook_emit(event="order.imported", payload={})[0]
    # when the first two tries fail
    webhook_deliver_due(ids=[delivery.pk])
    delivery.refresh_from_db()
    first_wait = delivery.next_attempt_at - delivery.last_attempt_at
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    webhook_deliver_due()
    delivery.refresh_from_db()
    second_wait = delivery.next_attempt_at - delivery.last_attempt_at
    # then
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 2, 500)
    assert first_wait == timedelta(seconds=30) and second_wait == timedelta(seconds=60)
    # and once the receiver is back, the due delivery goes out
    receiver.status = 204
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    call_command("webhooks", "deliver")
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


def test_a_delivery_gives_up_after_the_last_attempt(subscription, receiver) -> None:
    receiver.status = 503
    delivery = webhook_emit(event="order.imported", payload={})[0]
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=MAX_ATTEMPTS - 1)
    webhook_deliver_due(ids=[delivery.pk])
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.next_attempt_at is None


def test_an_unreachable_receiver_is_recorded_as_an_error(admin, db) -> None:
    webhook_subscription_create(
        actor=admin,
        name="Down",
        url="http://127.0.0.1:9/x",
        events=["*"],
        allow_private_network=True,
    )
    delivery = webhook_emit(event="points.changed", payload={})[0]
    webhook_deliver_due(ids=[delivery.pk])
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.error and delivery.response_code is None


def test_resend_sends_the_same_payload_again(
    subscription, receiver, admin, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = webhook_emit(event="order.imported", payload={"n": 1})[0]
    with django_capture_on_commit_callbacks(execute=True):
        webhook_resend(actor=admin, delivery=first)
    assert len(receiver.requests) == 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    assert WebhookDelivery.objects.count() == 2


def test_unknown_events_and_bad_urls_are_refused(admin, db) -> None:
    from stammkunde.core.errors import ApplicationError

    with pytest.raises(ApplicationError):
        webhook_emit(event="order.exploded", payload={})
    with pytest.raises(ApplicationError) as exc:
        webhook_subscription_create(actor=admin, name="x", url="ftp://x", events=["nope"])
    assert set(exc.value.field_errors) == {"url", "events"}


def test_the_delivery_log_and_resend_button_are_for_admins_only(
    subscription, client, agent, admin
) -> None:
    delivery = webhook_emit(event="order.imported", payload={})[0]
    client.force_login(agent)
    assert client.get("/dataio/webhooks/").status_code == 403
    assert client.post(f"/dataio/webhooks/deliveries/{delivery.pk}/resend/").status_code == 403
    client.force_login(admin)
    page = client.get("/dataio/webhooks/")
    assert page.status_code == 200 and b"order.imported" in page.content
    assert client.post(f"/dataio/webhooks/deliveries/{delivery.pk}/resend/").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_one_sender_thread_delivers_every_event(settings, receiver, admin):
    # given: no broker and no inline jobs, as `make run` serves
    settings.JOBS_INLINE = False
    settings.CELERY_BROKER_URL = ""
    webhook_subscription_create(
        actor=admin,
        name="CRM",
        url=receiver.url,
        events=["order.imported"],
        secret="s",
        allow_private_network=True,
    )
    # when: forty events in forty transactions
    for i in range(40):
        with transaction.atomic():
            webhook_emit(event="order.imported", payload={"items": [{"number": f"B{i}"}]})
    deadline = time.monotonic() + 30
    while len(receiver.requests) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    # then: all are sent, by one thread
    assert len(receiver.requests) == 40
    assert sum(t.name == "webhook-sender" for t in threading.enumerate()) == 1
    numbers = {json.loads(r["body"])["data"]["items"][0]["number"] for r in receiver.requests}
    assert numbers == {f"B{i}" for i in range(40)}


def test_the_scheduled_job_sends_the_due_retries_and_is_recorded(subscription, receiver) -> None:
    from stammkunde.core.jobs.models import Job
    from stammkunde.dataio.tasks import dataio_webhooks_deliver_due

    # given: a delivery whose first try failed and whose retry is due
    receiver.status = 500
    delivery = webhook_emit(event="order.imported", payload={})[0]
    webhook_deliver_due(ids=[delivery.pk])
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    receiver.status = 200
    # when: beat (or the in-process scheduler) runs the kind
    result = dataio_webhooks_deliver_due.apply(kwargs={"_trigger": "schedule"}).get()
    # then
    delivery.refresh_from_db()
    assert result == {"attempted": 1}
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    job = Job.objects.get(kind="dataio.webhooks_deliver_due")
    assert (job.status, job.trigger) == (Job.Status.DONE, Job.Trigger.SCHEDULE)


def test_a_message_of_the_earlier_task_still_sends_the_due_deliveries(
    subscription, receiver
) -> None:
    from stammkunde.dataio.tasks import dataio_webhooks_deliver

    delivery = webhook_emit(event="order.imported", payload={})[0]
    # when: a message the earlier plain task sent (positional list of ids) reaches a worker
    assert dataio_webhooks_deliver.apply(args=[[delivery.pk]]).get() == 1
    # then
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(receiver.requests) == 1


def test_the_migration_drops_the_hand_made_beat_entry_and_keeps_the_scheduled_kind(db) -> None:
    import importlib

    from django.apps import apps
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    migration = importlib.import_module(
        "stammkunde.dataio.migrations.0003_drop_hand_made_beat_entry"
    )
    every_30s, _new = IntervalSchedule.objects.get_or_create(
        every=30, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.create(
        name="dataio-webhooks-deliver", task="dataio.webhooks_deliver", interval=every_30s
    )
    # when
    migration.drop_old_entry(apps, None)
    # then
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert "dataio-webhooks-deliver" not in names
    assert "dataio.webhooks_deliver_due" in names
