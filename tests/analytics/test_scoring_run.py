"""The scoring run through the database: scores, history, classes and events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db.models import Count

from stammkunde.analytics.orm import AnalyticsEvent, CustomerScore, ModelRun, PhaseChange
from stammkunde.analytics.services import scoring_run
from stammkunde.customers.models import Customer
from stammkunde.demo.generator import demo_generate

pytestmark = pytest.mark.django_db
END = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)
AS_OF = date(2026, 6, 30)


@pytest.fixture
def shop() -> None:
    demo_generate(customers=600, seed=3, end=END, chunk_size=300)


def _buyers() -> int:
    return Customer.objects.filter(orders__isnull=False).distinct().count()


def test_scoring_run_stores_one_latest_score_per_buyer_with_reasons_in_both_languages(
    shop: None,
) -> None:
    # when
    run = scoring_run(as_of=AS_OF, chunk_size=150)
    # then
    assert run.status == ModelRun.Status.DONE
    latest = CustomerScore.objects.filter(is_latest=True)
    assert latest.count() == _buyers() == run.n_customers
    assert latest.filter(churn_risk__gte=0, churn_risk__lte=1).count() == latest.count()
    risky = latest.order_by("-churn_risk").first()
    assert risky is not None and risky.reasons
    assert {"de", "en", "feature"} <= set(risky.reasons[0])
    assert set(latest.values_list("phase", flat=True)) <= {
        "new",
        "established",
        "churn_prone",
        "churning",
        "lost",
    }


def test_scoring_run_writes_value_classes_to_customers_in_pareto_shares(shop: None) -> None:
    # when
    scoring_run(as_of=AS_OF, chunk_size=200)
    # then
    counts = dict(
        Customer.objects.exclude(value_class="").values_list("value_class").annotate(n=Count("id"))
    )
    total = sum(counts.values())
    assert total == _buyers()
    assert counts["A"] / total == pytest.approx(0.2, abs=0.03)
    assert counts["B"] / total == pytest.approx(0.3, abs=0.03)


def test_scoring_run_stores_fitted_parameters_as_json_and_held_out_quality(shop: None) -> None:
    # when
    run = scoring_run(as_of=AS_OF)
    # then
    assert run.params["bgnbd"]["model"] == "BetaGeoModel"
    assert run.params["churn"]["model"] == "ChurnModel"
    assert 0.5 < run.auc <= 1.0
    assert 0.0 < run.brier < 0.25
    assert run.top_decile_lift > 1.0
    assert len(run.metrics["reliability"]["predicted"]) >= 5


def test_chunk_size_does_not_change_the_scores(shop: None) -> None:
    # given
    scoring_run(as_of=AS_OF, chunk_size=10_000)
    single = dict(CustomerScore.objects.values_list("customer_id", "churn_risk"))
    classes = dict(CustomerScore.objects.values_list("customer_id", "value_class"))
    # when
    scoring_run(as_of=AS_OF, chunk_size=97)
    # then
    chunked = dict(CustomerScore.objects.values_list("customer_id", "churn_risk"))
    assert chunked.keys() == single.keys()
    assert max(abs(chunked[k] - single[k]) for k in single) < 1e-9
    assert dict(CustomerScore.objects.values_list("customer_id", "value_class")) == classes


def test_rescoring_the_same_day_replaces_scores_and_raises_nothing_twice(shop: None) -> None:
    # given
    scoring_run(as_of=date(2026, 5, 31))
    scoring_run(as_of=AS_OF)
    events = AnalyticsEvent.objects.count()
    # when
    scoring_run(as_of=AS_OF)
    # then
    assert CustomerScore.objects.filter(scored_at=AS_OF).count() == _buyers()
    assert CustomerScore.objects.filter(is_latest=True).count() == _buyers()
    assert AnalyticsEvent.objects.count() == events


def test_a_phase_change_is_recorded_and_raises_an_event(shop: None) -> None:
    # given: yesterday's score said "new" with no risk for a customer who is now at risk
    scoring_run(as_of=date(2026, 6, 29))
    today = scoring_run(as_of=AS_OF)
    target = CustomerScore.objects.filter(scored_at=AS_OF).order_by("-churn_risk").first()
    assert target is not None and target.churn_risk >= 0.9
    CustomerScore.objects.filter(customer=target.customer, scored_at=date(2026, 6, 29)).update(
        phase="new", churn_risk=0.05
    )
    AnalyticsEvent.objects.all().delete()
    # when
    scoring_run(as_of=AS_OF)
    # then
    change = PhaseChange.objects.get(customer=target.customer, changed_on=AS_OF)
    assert (change.from_phase, change.to_phase) == ("new", target.phase)
    phase_event = AnalyticsEvent.objects.get(
        customer=target.customer, kind=AnalyticsEvent.Kind.PHASE_CHANGE
    )
    assert phase_event.payload == {"from": "new", "to": target.phase}
    risk_event = AnalyticsEvent.objects.get(
        customer=target.customer, kind=AnalyticsEvent.Kind.RISK_CROSSED_THRESHOLD
    )
    assert risk_event.payload["direction"] == "up"
    assert today.params["config"]["risk_threshold"] == risk_event.payload["threshold"]


def test_first_score_of_a_customer_writes_history_but_raises_no_event(shop: None) -> None:
    # when
    scoring_run(as_of=AS_OF)
    # then
    assert PhaseChange.objects.filter(from_phase="").count() == _buyers()
    assert AnalyticsEvent.objects.count() == 0


def test_an_older_as_of_is_stored_as_history_without_replacing_the_latest(shop: None) -> None:
    # given
    scoring_run(as_of=AS_OF)
    # when
    scoring_run(as_of=date(2026, 3, 31))
    # then
    assert set(
        CustomerScore.objects.filter(is_latest=True).values_list("scored_at", flat=True)
    ) == {AS_OF}


def test_chunks_run_as_celery_tasks_load_their_own_rows(shop: None, settings) -> None:
    # given: eager Celery executes the group in-process through the task path
    settings.CELERY_TASK_ALWAYS_EAGER = True
    progress: list[int] = []
    # when
    run = scoring_run(as_of=AS_OF, chunk_size=150, distribute=True, on_progress=progress.append)
    # then
    assert run.status == ModelRun.Status.DONE
    assert sum(progress) == _buyers()
    assert CustomerScore.objects.filter(run=run).count() == _buyers()


def test_withdrawn_marketing_consent_counts_as_unsubscribed(shop: None) -> None:
    from stammkunde.analytics import selectors
    from stammkunde.analytics.scoring import signal_features
    from stammkunde.customers.models import Consent

    # given
    customer = Customer.objects.filter(consents__purpose="marketing").first()
    assert customer is not None
    Consent.objects.create(
        customer=customer,
        purpose="marketing",
        channel="email",
        status="withdrawn",
        source="test",
        at=datetime(2026, 6, 1, tzinfo=UTC),
    )
    # when
    signals = signal_features(selectors.signal_events(as_of=AS_OF), as_of=AS_OF)
    # then
    assert signals.loc[customer.pk, "unsubscribed"] == 1
    assert signals["unsubscribed"].sum() == 1


def test_too_few_buyers_is_a_clear_error_and_a_failed_run(db: None) -> None:
    # when / then
    with pytest.raises(ValueError, match="too few customers"):
        scoring_run(as_of=AS_OF)
    assert ModelRun.objects.get().status == ModelRun.Status.FAILED


def test_feedback_signals_are_loaded_for_the_scoring_and_the_calibration_day(shop: None) -> None:
    from stammkunde.analytics import selectors

    # when
    events = selectors.signal_events(as_of=AS_OF, also_as_of=(date(2026, 1, 1),))
    # then: the feedback app answers for both days (empty without survey responses)
    assert "feedback" in events
    assert {"customer_id", "as_of"} <= set(events["feedback"].columns)


def test_a_missing_survey_stays_unknown_and_a_poor_one_flags_a_silent_customer() -> None:
    import pandas as pd

    from stammkunde.analytics.scoring import signal_features

    # given: customer 1 answered a survey poorly, customer 2 only returned goods
    events = {
        "returns": pd.DataFrame({"customer_id": [2], "at": [pd.Timestamp("2026-06-20")]}),
        "feedback": pd.DataFrame(
            {
                "customer_id": [1, 1],
                "as_of": ["2026-06-30", "2026-01-01"],
                "survey_score_last": [1.0, 4.0],
                "negative_messages_90d": [2, 0],
            }
        ),
    }
    # when
    signals = signal_features(events, as_of=AS_OF)
    # then
    assert signals.loc[1, "survey_score_last"] == 1.0
    assert signals.loc[1, "negative_messages_90d"] == 2
    assert pd.isna(signals.loc[2, "survey_score_last"])
    assert signals.loc[2, "returns_90d"] == 1
