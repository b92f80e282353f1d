"""Campaigns ask first: the preview shows what a send or switch-on does, the confirmation
must name that very plan, and a test send reaches only the user who asked for it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from stammkunde.campaigns import selectors, services
from stammkunde.campaigns.models import Campaign, CampaignContact, CampaignRun
from stammkunde.channels.models import OutboxMessage
from stammkunde.core.jobs.models import Job
from stammkunde.customers.services import consent_record, contacts_suppress
from stammkunde.service.models import Ticket

from ..customers.factories import CustomerFactory
from ..service.factories import queue
from .factories import consenting_customer, email_campaign, phone_consenting_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing(make_user, client):
    user = make_user("marketing", email="mara@shop.example", first_name="Mara")
    client.force_login(user)
    return user


@pytest.fixture
def audience():
    """Twelve who may get mail; one without consent, one withdrawn, one bounced, one erased."""
    ok = [consenting_customer(first_name=f"Kundin{i}") for i in range(12)]
    CustomerFactory(first_name="Ohne")
    withdrawn = consenting_customer(first_name="Zurueck")
    consent_record(
        actor=None,
        customer=withdrawn,
        purpose="marketing",
        channel="email",
        status="withdrawn",
        source="unsubscribe link",
    )
    consenting_customer(first_name="Gone")
    services.email_bounce_record(address="gone@example.de", reason="550 no such user")
    consenting_customer(first_name="Geloescht")
    contacts_suppress(emails=["geloescht@example.de"])
    return ok


def _preview(client, campaign: Campaign, action: str = "run"):
    page = client.get(f"/campaigns/{campaign.pk}/preview/?action={action}")
    assert page.status_code == 200
    return page, page.context["preview"]


def test_preview_names_the_excluded_by_reason_and_writes_nothing(
    client, marketing, audience
) -> None:
    # given
    campaign = email_campaign(control_share=Decimal("0.25"), cost_per_contact=Decimal("1.50"))
    # when
    page, preview = _preview(client, campaign)
    # then
    reasons = {row["key"]: row["n"] for row in preview.excluded}
    assert reasons.pop("no_email_consent") == 2  # never asked, withdrawn
    assert reasons.pop("no_email_address") == 1  # bounced
    assert reasons.pop("suppressed") == 1  # erased person's address
    assert reasons == {"control": preview.plan.control}
    assert preview.plan.treatment + preview.plan.control == 12
    assert preview.audience == 16
    assert len(preview.sample) == min(10, preview.plan.treatment)
    assert preview.cost == Decimal("1.50") * preview.plan.treatment
    assert f"sendet {preview.plan.treatment} E-Mails" in page.content.decode()
    assert CampaignRun.objects.count() == 0 and CampaignContact.objects.count() == 0


def test_the_confirmed_run_does_what_the_preview_said(
    client, marketing, audience, django_capture_on_commit_callbacks
) -> None:
    # given
    campaign = email_campaign(control_share=Decimal("0.25"))
    _page, preview = _preview(client, campaign)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/campaigns/{campaign.pk}/run/", {"confirm": preview.token})
    # then: the send ran as a job, with done of total over the audience
    assert response.status_code == 302
    assert response["Location"] == f"/campaigns/{campaign.pk}/"
    job = Job.objects.get(kind="campaigns.send")
    assert job.status == Job.Status.DONE, job.error
    assert job.started_by == marketing
    assert job.params == {"campaign_id": campaign.pk, "confirm": preview.token}
    assert job.progress_done == job.progress_total == preview.audience
    run = CampaignRun.objects.get()
    assert run.actor == marketing
    assert run.counts["treatment"] == preview.plan.treatment
    assert run.counts["control"] == preview.plan.control
    assert run.counts["suppressed"] == preview.plan.suppressed
    planned = {(d.customer_id, d.control) for d in preview.plan.decisions}
    made = {(c.customer_id, c.group == "control") for c in campaign.contacts.all()}
    assert made == planned
    assert len(mail.outbox) == preview.plan.treatment
    detail = client.get(f"/campaigns/{campaign.pk}/")
    assert detail.context["contacts"]["contacted"] == preview.plan.treatment


def test_a_post_without_confirmation_sends_nothing(client, marketing, audience) -> None:
    # given
    campaign = email_campaign()
    # when
    response = client.post(f"/campaigns/{campaign.pk}/run/")
    # then: back to the preview, nothing written or sent
    assert response.status_code == 302 and "/preview/?action=run" in response["Location"]
    assert CampaignRun.objects.count() == 0 and CampaignContact.objects.count() == 0
    assert mail.outbox == []


def test_a_changed_audience_makes_the_confirmation_stale(
    client, marketing, audience, django_capture_on_commit_callbacks
) -> None:
    # given a preview, then one more customer joins the audience
    campaign = email_campaign()
    _page, preview = _preview(client, campaign)
    consenting_customer(first_name="Neu")
    # when
    response = client.post(f"/campaigns/{campaign.pk}/run/", {"confirm": preview.token})
    # then: asked again with the new figures, nothing written
    assert response.status_code == 409
    assert CampaignRun.objects.count() == 0
    assert response.context["preview"].plan.treatment == preview.plan.treatment + 1
    assert 'id="stale"' in response.content.decode()
    assert not Job.objects.filter(kind="campaigns.send").exists()
    # and the new token confirms
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/campaigns/{campaign.pk}/run/", {"confirm": response.context["preview"].token}
        )
    assert CampaignRun.objects.get().counts["treatment"] == preview.plan.treatment + 1


def test_a_guessed_token_confirms_nothing(client, marketing, audience) -> None:
    campaign = email_campaign()
    response = client.post(f"/campaigns/{campaign.pk}/run/", {"confirm": "0" * 20})
    assert response.status_code == 409 and CampaignRun.objects.count() == 0


def test_a_confirmation_sends_once_however_often_it_is_posted_or_its_job_run(
    client, marketing, audience, django_capture_on_commit_callbacks
) -> None:
    from stammkunde.core.jobs.services import job_start

    # given a confirmed send that ran
    campaign = email_campaign(control_share=Decimal("0.25"))
    _page, preview = _preview(client, campaign)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/campaigns/{campaign.pk}/run/", {"confirm": preview.token})
    contacts, mails = CampaignContact.objects.count(), len(mail.outbox)
    assert contacts == 12 and mails == preview.plan.treatment
    # when: the same confirmation is posted again
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/campaigns/{campaign.pk}/run/", {"confirm": preview.token})
    # then: stale, asked again, no second job
    assert again.status_code == 409
    assert Job.objects.filter(kind="campaigns.send").count() == 1
    # when: its job runs once more (as a retry does, past the page's check)
    first = Job.objects.get(kind="campaigns.send")
    with django_capture_on_commit_callbacks(execute=True):
        retry = job_start(kind="campaigns.send", params=first.params, user=marketing)
    # then: the run refuses the token; nobody is contacted twice
    assert retry is not None
    retry.refresh_from_db()
    assert retry.status == Job.Status.FAILED and "ConflictError" in retry.error
    assert CampaignContact.objects.count() == contacts and len(mail.outbox) == mails
    assert CampaignRun.objects.count() == 1


def test_a_second_confirmation_while_the_send_runs_shows_that_send(
    client, marketing, audience
) -> None:
    # given a send of this campaign that is still queued (its commit has not come yet)
    campaign = email_campaign()
    _page, preview = _preview(client, campaign)
    client.post(f"/campaigns/{campaign.pk}/run/", {"confirm": preview.token})
    # when: confirmed once more
    response = client.post(f"/campaigns/{campaign.pk}/run/", {"confirm": preview.token})
    # then: the same job, no second one, and nothing sent in the request
    assert response.status_code == 302
    job = Job.objects.get(kind="campaigns.send")
    assert job.status == Job.Status.QUEUED
    assert CampaignContact.objects.count() == 0 and mail.outbox == []
    page = client.get(f"/campaigns/{campaign.pk}/")
    assert [m.level_tag for m in page.context["messages"]] == ["success", "info"]
    assert 'id="send-job" data-status="queued"' in page.content.decode()


def test_the_campaign_page_shows_the_progress_of_its_send_and_reloads_when_done(
    client, marketing
) -> None:
    # given a running send of the campaign
    campaign = email_campaign()
    job = Job.objects.create(
        kind="campaigns.send",
        params={"campaign_id": campaign.pk, "confirm": "x"},
        status=Job.Status.RUNNING,
        progress_done=3,
        progress_total=16,
    )
    # when / then: the page shows the bar and polls its part
    html = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert '<progress class="job-progress" max="16" value="3"' in html
    assert f'hx-get="/campaigns/{campaign.pk}/?part=send"' in html
    part = client.get(f"/campaigns/{campaign.pk}/?part=send", HTTP_HX_REQUEST="true")
    assert part.content.decode().startswith('<section class="card" id="send-job"')
    assert "HX-Refresh" not in part
    # when: the send is done
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.DONE, result={"treatment": 12, "control": 4}
    )
    part = client.get(f"/campaigns/{campaign.pk}/?part=send", HTTP_HX_REQUEST="true")
    # then: the page reloads (its figures changed), with the outcome as a message
    assert part["HX-Refresh"] == "true"
    html = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="send-job"' not in html
    assert "12 kontaktiert, 4 als Kontrollgruppe zurückgehalten." in html


def test_a_failed_send_shows_its_error_on_the_campaign_page(client, marketing) -> None:
    campaign = email_campaign()
    Job.objects.create(
        kind="campaigns.send",
        params={"campaign_id": campaign.pk},
        status=Job.Status.FAILED,
        error="ValueError: boom",
    )
    html = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="send-job" data-status="failed"' in html and "ValueError: boom" in html
    assert "hx-get" not in html.split('id="send-job"')[1].split("</section>")[0]


@pytest.fixture
def broker_down(settings):
    """Jobs go to a broker nobody listens at (as in tests/core's ``broker_at``)."""
    from stammkunde.celery import app

    old = (app.conf.broker_url, app.conf.task_always_eager)
    url = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.JOBS_INLINE = False
    app.conf.broker_url, app.conf.task_always_eager = url, False
    app._pool = None
    app.amqp._producer_pool = None
    yield
    app.conf.broker_url, app.conf.task_always_eager = old
    app._pool = None
    app.amqp._producer_pool = None


def test_a_broker_that_is_down_refuses_the_send_clearly_and_sends_nothing(
    client, marketing, audience, broker_down, monkeypatch
) -> None:
    from django.db import transaction

    campaign = email_campaign()
    _page, preview = _preview(client, campaign)
    # the test's transaction defers on_commit; a view outside one dispatches at once
    monkeypatch.setattr(transaction, "on_commit", lambda func, *a, **k: func())
    response = client.post(
        f"/campaigns/{campaign.pk}/run/", {"confirm": preview.token}, follow=True
    )
    html = response.content.decode()
    assert "Die Job-Warteschlange ist nicht erreichbar" in html
    assert Job.objects.get(kind="campaigns.send").status == Job.Status.NOT_SENT
    assert 'id="send-job" data-status="not_sent"' in html
    assert CampaignRun.objects.count() == 0 and CampaignContact.objects.count() == 0


def test_the_test_send_goes_only_to_the_user_and_counts_nothing(
    client, marketing, audience
) -> None:
    # given
    campaign = email_campaign(subject="Hallo {first_name}")
    # when
    response = client.post(f"/campaigns/{campaign.pk}/test-send/", {"action": "run"})
    # then
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["mara@shop.example"]]
    assert mail.outbox[0].subject == "[Test] Hallo Mara"
    outbox = OutboxMessage.objects.get()
    assert outbox.status == "sent" and outbox.reference_id is None
    assert outbox.headers["X-Stammkunde-Test"] == "yes"
    assert CampaignContact.objects.count() == 0
    summary = selectors.campaign_contacts_summary(campaign)
    assert summary["contacted"] == 0 and summary["cost"] == 0


def test_a_test_send_without_an_own_address_is_refused(client, make_user, audience) -> None:
    user = make_user("marketing")
    client.force_login(user)
    campaign = email_campaign()
    client.post(f"/campaigns/{campaign.pk}/test-send/")
    assert mail.outbox == [] and OutboxMessage.objects.count() == 0


def test_switching_on_a_phone_playbook_asks_and_then_creates_the_call_tasks_it_named(
    client, marketing, django_capture_on_commit_callbacks
) -> None:
    # given a birthday call campaign and five customers whose birthday is today
    from django.utils import timezone

    queue("Kundenservice")
    today = timezone.localdate()
    for i in range(5):
        phone_consenting_customer(first_name=f"Geb{i}", birthday=today.replace(year=1980))
    phone_consenting_customer(first_name="Andermal", birthday=date_other(today))
    campaign = services.campaign_create(
        actor=None,
        data={
            "name": "Geburtstagsanruf",
            "offer_kind": "information",
            "channel": "phone",
            "trigger": "birthday",
            "is_advertising": True,
            "control_share": Decimal("0"),
            "cost_per_contact": Decimal("4.00"),
            "expected_uplift": Decimal("0.2"),
        },
    )
    # when: switch on without confirmation
    asked = client.post(f"/campaigns/{campaign.pk}/status/", {"status": "active"})
    campaign.refresh_from_db()
    # then: nothing happened, the preview names the call tasks
    assert campaign.status == "draft" and Ticket.objects.count() == 0
    page = client.get(asked["Location"])
    preview = page.context["preview"]
    assert preview.plan.treatment == 5, preview.plan.suppressed
    assert "erstellt 5 Anrufaufgaben" in page.content.decode()
    assert "kostet ca. 20 €" in page.content.decode()
    # when: confirmed
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/campaigns/{campaign.pk}/status/", {"status": "active", "confirm": preview.token}
        )
    # then
    campaign.refresh_from_db()
    assert campaign.status == "active"
    assert Ticket.objects.filter(tags__name="outbound-call").count() == 5


def date_other(today):
    """A birthday that is not today."""
    from datetime import timedelta

    other = today + timedelta(days=40)
    return other.replace(year=1980)
