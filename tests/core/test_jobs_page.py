"""The jobs page: admins only, labels in German, start a job and watch it, failures noticed."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from stammkunde.core.jobs.models import Job

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).parents[2] / "src/stammkunde/core/jobs/templates/jobs"


def _client(client, user, language: str = "en"):  # type: ignore[no-untyped-def]
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.mark.parametrize("role", ["agent", "team_lead", "marketing", "analyst"])
def test_only_admins_see_the_jobs_page(client, make_user, role) -> None:
    c = _client(client, make_user(role))
    assert c.get(reverse("jobs:list")).status_code == 403
    assert c.post(reverse("jobs:start"), {"kind": "analytics.score"}).status_code == 403
    assert not Job.objects.exists()


def test_the_jobs_page_shows_the_schedule_with_german_labels(client, admin) -> None:
    page = _client(client, admin, "de").get(reverse("jobs:list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "SLA-Eskalation" in html
    assert "Postfächer abrufen" in html
    assert 'data-kind="service.sla_escalate"' in html
    assert reverse("jobs:list") in html  # in the navigation


def test_an_admin_starts_the_scoring_and_sees_its_progress(
    client, admin, django_capture_on_commit_callbacks
) -> None:
    from django.utils import timezone

    from stammkunde.demo.generator import demo_generate

    demo_generate(customers=200, seed=2, end=timezone.now(), chunk_size=100)
    c = _client(client, admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("jobs:start"), {"kind": "analytics.score"})
    job = Job.objects.get(kind="analytics.score")
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.status == Job.Status.DONE, job.error
    assert job.started_by == admin
    assert job.progress_total and job.progress_done == job.progress_total
    page = c.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "<progress" in page and 'data-status="done"' in page
    # htmx asks for the status part only
    part = c.get(reverse("jobs:detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert part.startswith('<div id="job-status"') and "<html" not in part


def test_a_running_job_polls_its_progress_and_shows_a_bar(client, admin) -> None:
    job = Job.objects.create(
        kind="analytics.score", status=Job.Status.RUNNING, progress_done=30, progress_total=120
    )
    c = _client(client, admin)
    part = c.get(reverse("jobs:detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in part
    assert '<progress class="job-progress" max="120" value="30"' in part
    listing = c.get(reverse("jobs:list")).content.decode()
    assert 'hx-get="/jobs/running/"' in listing


def test_a_failed_job_shows_on_every_page_until_acknowledged(client, admin) -> None:
    failed = Job.objects.create(
        kind="service.sla_escalate",
        status=Job.Status.FAILED,
        error="ValueError: boom",
        traceback="Traceback (most recent call last): ...",
    )
    from stammkunde.core.jobs.services import failed_notice_reset

    failed_notice_reset()
    c = _client(client, admin)
    other_page = c.get(reverse("customers:list")).content.decode()
    assert 'id="failed-jobs-notice"' in other_page
    detail = c.get(reverse("jobs:detail", args=[failed.pk])).content.decode()
    assert "ValueError: boom" in detail and "Traceback (most recent call last)" in detail
    # when
    c.post(reverse("jobs:acknowledge", args=[failed.pk]))
    # then
    assert 'id="failed-jobs-notice"' not in c.get(reverse("customers:list")).content.decode()


def test_a_broker_that_is_down_is_a_clear_message_and_the_job_stays_recorded(
    client, admin, broker_at, monkeypatch
) -> None:
    from django.db import transaction

    broker_at("redis://127.0.0.1:1/0")
    c = _client(client, admin)
    # the test's transaction defers on_commit; a view outside one dispatches at once
    monkeypatch.setattr(transaction, "on_commit", lambda func, *a, **k: func())
    response = c.post(reverse("jobs:start"), {"kind": "analytics.score"}, follow=True)
    assert "job queue is not reachable" in response.content.decode()
    assert Job.objects.get(kind="analytics.score").status == Job.Status.NOT_SENT


def test_the_jobs_templates_have_no_inline_script_style_or_hx_on() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert "<script" not in text and "style=" not in text and "hx-on" not in text, template
