"""Lifecycle-phase triggers, the CLI and Celery wrappers, and the signals analytics reads."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from stammkunde.feedback import services
from stammkunde.feedback.models import Invitation
from stammkunde.feedback.selectors import feedback_signals, text_sentiment
from stammkunde.feedback.tasks import feedback_run_triggers

from .conftest import q

pytestmark = pytest.mark.django_db


def test_entering_a_lifecycle_phase_triggers_the_survey_once(nps_survey, customer) -> None:
    # given: analytics moved the customer to "churn_prone" today
    from stammkunde.analytics.orm import PhaseChange

    PhaseChange.objects.create(
        customer=customer, changed_on=timezone.localdate(), from_phase="established",
        to_phase="churn_prone",
    )  # fmt: skip
    services.trigger_create(actor=None, survey=nps_survey, event="phase", phase="churn_prone")
    # when
    first = services.triggers_run()
    second = services.triggers_run(now=timezone.now() + timedelta(days=40))
    # then
    assert first["sent"] == 1 and second["sent"] == 0
    assert Invitation.objects.get().dedupe_key.startswith("phase:")


def test_phase_trigger_needs_a_phase(nps_survey) -> None:
    from stammkunde.core.errors import ApplicationError

    with pytest.raises(ApplicationError):
        services.trigger_create(actor=None, survey=nps_survey, event="phase")


def test_cli_runs_the_triggers_and_reports_counts(nps_survey, customer) -> None:
    from tests.commerce.factories import order

    order(customer, "B300")
    services.trigger_create(actor=None, survey=nps_survey, event="periodic")
    out = StringIO()
    call_command("feedback", "run-triggers", stdout=out)
    assert "Sent 1 invitations" in out.getvalue()


def test_celery_task_wraps_the_service(nps_survey) -> None:
    assert feedback_run_triggers.delay().get() == {"sent": 0}


def test_signals_give_the_last_score_on_a_one_to_five_scale_and_negative_texts(
    nps_survey, csat_survey, customer
) -> None:
    # given: an NPS of 10 and later a CSAT of 2 with an angry comment, the CSAT at 23:30 UTC
    # (already the next day in Berlin: the day asked for is the shop's local day)
    now = (timezone.now() - timedelta(days=1)).replace(hour=23, minute=30, second=0)
    services.response_submit(
        answers={q(nps_survey, 1): 10}, version=nps_survey.current_version, customer=customer,
        source="api", now=now - timedelta(days=20),
    )  # fmt: skip
    services.response_submit(
        answers={q(csat_survey, 1): 2, q(csat_survey, 2): "Katastrophe, total enttäuscht."},
        version=csat_survey.current_version, customer=customer, source="api", now=now,
    )  # fmt: skip
    # when
    signals = feedback_signals(as_of=timezone.localdate(now))
    # then
    row = signals.loc[customer.pk]
    assert row["survey_score_last"] == 2
    assert row["sentiment_last"] < -0.5
    assert row["negative_messages_90d"] >= 1


def test_signals_map_nps_zero_to_one_and_ten_to_five(nps_survey, customer) -> None:
    from .conftest import consenting_customer

    other = consenting_customer()
    for who, score in ((customer, 0), (other, 10)):
        services.response_submit(
            answers={q(nps_survey, 1): score}, version=nps_survey.current_version, customer=who,
            source="api",
        )  # fmt: skip
    signals = feedback_signals(as_of=timezone.localdate())
    assert signals.loc[customer.pk, "survey_score_last"] == 1
    assert signals.loc[other.pk, "survey_score_last"] == 5
    assert text_sentiment("sehr gut") > 0


def test_no_responses_give_an_empty_frame(db) -> None:
    assert feedback_signals(as_of=timezone.localdate()).empty
