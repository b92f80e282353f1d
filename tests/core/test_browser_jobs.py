"""In the browser: an admin starts the scoring on /jobs/ and watches it run to the end.

The runner is in its embedded default (a thread of the live server's process,
not inline as in the rest of the suite), so the page returns at once and only
htmx polling can show the job moving on: the test fails if the page had to be
reloaded, or if it never updated by itself.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.utils import timezone

from stammkunde.analytics import services as analytics_services
from stammkunde.core.jobs import runner
from stammkunde.core.jobs.models import Job
from stammkunde.demo.generator import demo_generate

from ..conftest import require
from ..demo_site import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMERS = 600
CHUNK = 60  # customers per chunk: about ten chunks
CHUNK_PAUSE_S = 0.4  # each chunk takes a moment, as it does with a real customer base
# A running job's bar with a known total (the finished one is max="1").
BAR_FILLING = '#job-status[data-status="running"] progress.job-progress[max]:not([max="1"])'


@pytest.fixture
def jobs_in_a_thread(settings: Any) -> None:
    """Jobs run in a thread of this process, as in the embedded default (no broker)."""
    from django.db import connection

    require(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://...)")
    settings.JOBS_INLINE = False
    settings.CELERY_BROKER_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert runner.run_mode() == "thread"


@pytest.fixture
def scoring_in_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page starts the kind with its default (20,000 a chunk): use small, slow chunks."""
    real = analytics_services.scoring_run

    def scoring_run(**kwargs: Any) -> Any:
        report = kwargs["on_progress"]

        def slowly(n: int) -> None:
            time.sleep(CHUNK_PAUSE_S)
            report(n)

        return real(**{**kwargs, "chunk_size": CHUNK, "on_progress": slowly})

    monkeypatch.setattr(analytics_services, "scoring_run", scoring_run)


def test_an_admin_starts_the_scoring_and_sees_it_reach_done_without_reloading(
    browser: Any,
    live_server: Any,
    insecure_cookies: Any,
    make_user: Any,
    jobs_in_a_thread: None,
    scoring_in_small_chunks: None,
) -> None:
    # given a shop with enough customers for several chunks, and an admin on /jobs/
    demo_generate(customers=CUSTOMERS, seed=2, end=timezone.now())
    admin = make_user("admin")
    page = browser.new_page()
    browser_login(page, live_server.url, admin.username, "pw-Stammkunde-1")
    page.goto(f"{live_server.url}/jobs/")
    # when the admin starts the scoring
    page.click('button[data-kind="analytics.score"]')
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    page.wait_for_load_state("load")
    job = Job.objects.get(kind="analytics.score")
    assert page.url == f"{live_server.url}/jobs/{job.pk}/"
    # from here on the page must update itself: note every navigation and every poll
    navigations: list[str] = []
    polls: list[str] = []
    page.on(
        "framenavigated",
        lambda frame: navigations.append(frame.url) if frame == page.main_frame else None,
    )
    page.on(
        "request",
        lambda request: (
            polls.append(request.url) if request.headers.get("hx-request") == "true" else None
        ),
    )
    page.evaluate("() => { window.notReloaded = true; }")
    # then the job page shows the running job with its progress bar
    status = page.locator("#job-status")
    assert status.get_attribute("data-status") in ("queued", "running")
    assert page.locator("#job-status progress.job-progress").is_visible()
    # and the bar fills while the chunks are scored
    page.wait_for_selector(BAR_FILLING, timeout=20_000)
    bar = page.locator("#job-status progress.job-progress")
    assert 0 < float(bar.get_attribute("value") or 0) <= float(bar.get_attribute("max") or 0)
    # and the job reaches "done" on the same page
    page.wait_for_selector('#job-status[data-status="done"]', timeout=30_000)
    assert page.locator("#job-status progress.job-progress").get_attribute("value") == "1"
    assert page.evaluate("() => window.notReloaded === true"), "the page was reloaded"
    assert navigations == [], navigations
    assert len(polls) >= 2 and all(p.endswith(f"/jobs/{job.pk}/") for p in polls), polls
    # and the job ran in a thread, as the admin's job, through every chunk
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.started_by == admin and job.trigger == Job.Trigger.USER
    assert job.progress_total and job.progress_total > 3 * CHUNK
    assert job.progress_done == job.progress_total
    page.close()
