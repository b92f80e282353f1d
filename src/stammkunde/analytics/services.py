"""Writes of the analytics app: the scoring run and what one chunk stores.

``scoring_run`` is deliberately not one transaction: a million customers in
one transaction would hold locks and memory for minutes. Each chunk is one
transaction instead, and a chunk's writes are idempotent per day (a re-run
of the same ``as_of`` replaces that day's scores and raises no event twice).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from stammkunde.core.db import bulk_insert
from stammkunde.core.hooks import hook_run
from stammkunde.core.jobs.runner import tasks_fan_out
from stammkunde.customers.models import Customer

from . import selectors
from .orm import AnalyticsEvent, CustomerScore, ModelRun, PhaseChange
from .scoring import (
    LABEL_HORIZON_DAYS,
    MODEL_VERSION,
    ScoringConfig,
    population_fit,
    score_chunk,
)

Progress = Callable[[int], None]
#: The Celery task that scores one chunk (``tasks.analytics_score_chunk``), sent by name.
SCORE_CHUNK_TASK = "analytics.score_chunk"


def scoring_config() -> ScoringConfig:
    """Return the scoring configuration; ``settings.ANALYTICS_*`` override the defaults."""
    defaults = ScoringConfig()
    return ScoringConfig(
        clv_months=getattr(settings, "ANALYTICS_CLV_MONTHS", defaults.clv_months),
        discount_rate_monthly=getattr(
            settings, "ANALYTICS_DISCOUNT_RATE_MONTHLY", defaults.discount_rate_monthly
        ),
        margin=getattr(settings, "ANALYTICS_MARGIN", defaults.margin),
        class_shares=getattr(settings, "ANALYTICS_CLASS_SHARES", defaults.class_shares),
        risk_threshold=getattr(settings, "ANALYTICS_RISK_THRESHOLD", defaults.risk_threshold),
        thresholds=getattr(settings, "ANALYTICS_LIFECYCLE_THRESHOLDS", defaults.thresholds),
        min_baseline_purchases=getattr(
            settings, "ANALYTICS_MIN_BASELINE_PURCHASES", defaults.min_baseline_purchases
        ),
    )


def _chunks(customer_ids: np.ndarray, chunk_size: int) -> list[tuple[int, int]]:
    """Split sorted customer ids into inclusive id ranges of ``chunk_size`` customers."""
    return [
        (int(part[0]), int(part[-1]))
        for part in np.array_split(customer_ids, max(1, -(-len(customer_ids) // chunk_size)))
        if len(part)
    ]


def _slice(frame: pd.DataFrame, id_range: tuple[int, int]) -> pd.DataFrame:
    ids = frame["customer_id"].to_numpy()
    if len(ids) and np.all(ids[:-1] <= ids[1:]):
        lo, hi = (
            np.searchsorted(ids, [id_range[0], id_range[1]], side="left")[0],
            np.searchsorted(ids, id_range[1], side="right"),
        )
        return frame.iloc[lo:hi]
    return frame.loc[(ids >= id_range[0]) & (ids <= id_range[1])]


def scoring_run(
    *,
    as_of: date,
    chunk_size: int = 20_000,
    on_progress: Progress | None = None,
    distribute: bool | None = None,
) -> ModelRun:
    """Score every customer with purchases as of ``as_of`` and return the finished run.

    Loads orders and signals set-based, fits the population models once
    (BG/NBD, Gamma-Gamma, churn classifier with held-out quality), then scores
    and writes customers chunk by chunk. With ``settings.CELERY_BROKER_URL``
    (or ``distribute=True``) the chunks are a Celery group and this function
    waits for their rows; otherwise they run inline. ``on_progress`` receives
    the number of customers finished since the last call.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    distribute = bool(settings.CELERY_BROKER_URL) if distribute is None else distribute
    run = ModelRun.objects.create(
        as_of=as_of, model_version=MODEL_VERSION, started_at=timezone.now()
    )
    timings: dict[str, float] = {}
    try:
        started = time.perf_counter()
        tx = selectors.transactions_frame(as_of=as_of)
        events = selectors.signal_events(
            as_of=as_of, also_as_of=(as_of - timedelta(days=LABEL_HORIZON_DAYS),)
        )
        timings["load"] = time.perf_counter() - started
        started = time.perf_counter()
        fit = population_fit(tx, events, as_of=as_of, config=scoring_config())
        newest = CustomerScore.objects.aggregate(d=Max("scored_at"))["d"]
        fit["becomes_latest"] = newest is None or newest <= as_of
        timings["fit"] = time.perf_counter() - started
        quality = fit["quality"]
        ModelRun.objects.filter(pk=run.pk).update(
            params=fit,
            metrics=quality,
            auc=quality.get("auc"),
            brier=quality.get("brier"),
            top_decile_lift=quality.get("top_decile_lift"),
            n_customers=fit["n_customers"],
            n_transactions=fit["n_transactions"],
        )
        started = time.perf_counter()
        ranges = _chunks(np.unique(tx["customer_id"].to_numpy()), chunk_size)
        if distribute:
            _score_distributed(run.pk, ranges, fit["n_customers"], on_progress)
        else:
            for id_range in ranges:
                done = chunk_score_write(
                    run_id=run.pk,
                    fit=fit,
                    tx=_slice(tx, id_range),
                    events={k: _slice(v, id_range) for k, v in events.items()},
                    id_range=id_range,
                )
                if on_progress:
                    on_progress(done)
        timings["score_write"] = time.perf_counter() - started
    except Exception as exc:
        ModelRun.objects.filter(pk=run.pk).update(
            status=ModelRun.Status.FAILED,
            error=str(exc),
            finished_at=timezone.now(),
            timings=timings,
        )
        raise
    ModelRun.objects.filter(pk=run.pk).update(
        status=ModelRun.Status.DONE, timings=timings, finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


#: Seconds without a finished chunk after which the coordinating job scores one itself.
CHUNK_STALL_S = 5.0


def _score_distributed(
    run_id: int,
    ranges: list[tuple[int, int]],
    total: int,
    on_progress: Progress | None,
    timeout_s: float = 3600.0,
) -> None:
    """Send one Celery task per chunk and wait until all their scores are written.

    Each chunk is claimed once in the shared cache (:func:`chunk_claim`), by a
    worker task or by this process: when no chunk has finished for
    ``CHUNK_STALL_S`` (the workers are busy, perhaps with this very job on a
    one-process worker), this process scores a chunk itself, taking them from
    the end while the workers take them from the front. So the job always
    finishes and no chunk is written twice. Waiting polls the database instead
    of a result backend, which this project does not require.
    """
    tasks_fan_out(SCORE_CHUNK_TASK, [(run_id, lo, hi) for lo, hi in ranges])
    deadline = time.monotonic() + timeout_s
    reported = 0
    last_change = time.monotonic()
    own = list(reversed(ranges))
    while True:
        done = CustomerScore.objects.filter(run_id=run_id).count()
        if done > reported:
            if on_progress:
                on_progress(done - reported)
            reported = done
            last_change = time.monotonic()
        if done >= total:
            return
        if ModelRun.objects.filter(pk=run_id, status=ModelRun.Status.FAILED).exists():
            raise RuntimeError("a scoring chunk failed; see the run's error")
        if time.monotonic() > deadline:
            raise TimeoutError(f"scoring chunks did not finish within {timeout_s:.0f} s")
        if own and time.monotonic() - last_change > CHUNK_STALL_S:
            id_range = own.pop(0)
            if chunk_claim(run_id, id_range):
                chunk_score_load_and_write(run_id=run_id, id_range=id_range)
            continue
        time.sleep(0.5)


def chunk_claim(run_id: int, id_range: tuple[int, int]) -> bool:
    """Claim one chunk of a run for scoring; False when another process has it already.

    ``add`` is atomic in the shared cache (the database cache or Redis), so across
    processes exactly one claim wins.
    """
    from django.core.cache import caches

    key = f"stammkunde:score-chunk:{run_id}:{id_range[0]}:{id_range[1]}"
    return bool(caches["shared"].add(key, 1, timeout=24 * 3600))


def chunk_score_load_and_write(*, run_id: int, id_range: tuple[int, int]) -> int:
    """Load one chunk's rows from the database, score and write them (the Celery path)."""
    run = ModelRun.objects.get(pk=run_id)
    as_of = run.as_of
    try:
        return chunk_score_write(
            run_id=run_id,
            fit=run.params,
            id_range=id_range,
            tx=selectors.transactions_frame(as_of=as_of, id_range=id_range),
            events=selectors.signal_events(as_of=as_of, id_range=id_range),
        )
    except Exception as exc:
        ModelRun.objects.filter(pk=run_id).update(status=ModelRun.Status.FAILED, error=str(exc))
        raise


#: Columns of :func:`score_chunk` stored on CustomerScore under the same names.
_SCORE_COLUMNS = (
    "frequency",
    "recency_days",
    "T_days",
    "monetary",
    "p_alive",
    "expected_purchases_90d",
    "clv_12m",
    "value_class",
    "rfm_segment",
    "churn_risk",
    "reasons",
    "phase",
    "unvoiced",
    "unvoiced_evidence",
)


def _decimal(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def chunk_score_write(
    *,
    run_id: int,
    fit: dict[str, Any],
    tx: pd.DataFrame,
    events: dict[str, pd.DataFrame],
    id_range: tuple[int, int],
) -> int:
    """Score one chunk of customers and store scores, phase changes, events and classes.

    One transaction per chunk. Returns the number of customers scored.
    """
    if tx.empty:
        return 0
    scores = score_chunk(tx, events, fit=fit)
    as_of = date.fromisoformat(fit["as_of"])
    threshold = fit["config"]["risk_threshold"]
    previous = selectors.previous_scores(before=as_of, id_range=id_range).reindex(scores.index)
    latest = bool(fit.get("becomes_latest", True))
    ids = scores.index.to_numpy().tolist()
    now = timezone.now()
    # Range filters, not "IN (ids)": every customer with orders in the range is in
    # this chunk, and a 20,000-element IN list costs seconds to build and parse.
    in_range = {"customer_id__gte": id_range[0], "customer_id__lte": id_range[1]}
    with transaction.atomic():
        replaced = selectors.risks_of_day(day=as_of, id_range=id_range).reindex(scores.index)
        CustomerScore.objects.filter(scored_at=as_of, **in_range).delete()
        PhaseChange.objects.filter(changed_on=as_of, **in_range).delete()
        if latest:
            CustomerScore.objects.filter(is_latest=True, **in_range).update(is_latest=False)
        values = [scores[c].tolist() for c in _SCORE_COLUMNS]
        for money in ("monetary", "clv_12m"):
            values[_SCORE_COLUMNS.index(money)] = [
                _decimal(v) for v in values[_SCORE_COLUMNS.index(money)]
            ]
        bulk_insert(
            CustomerScore,
            ["customer", "run", "scored_at", "model_version", *_SCORE_COLUMNS, "is_latest"],
            (
                (cid, run_id, as_of, fit["model_version"], *row, latest)
                for cid, *row in zip(ids, *values, strict=True)
            ),
        )
        changed = previous["phase"].ne(scores["phase"])
        bulk_insert(
            PhaseChange,
            ["customer", "run", "changed_on", "from_phase", "to_phase"],
            (
                (cid, run_id, as_of, prev if isinstance(prev, str) else "", new)
                for cid, prev, new in zip(
                    scores.index[changed].tolist(),
                    previous.loc[changed, "phase"].tolist(),
                    scores.loc[changed, "phase"].tolist(),
                    strict=True,
                )
            ),
        )
        _events_raise(
            run_id=run_id,
            as_of=as_of,
            now=now,
            scores=scores,
            previous=previous,
            threshold=threshold,
        )
        if latest:
            _value_classes_copy(as_of=as_of, id_range=id_range)
            raised = _risk_raises(as_of=as_of, scores=scores, previous=previous, replaced=replaced)
            if raised:
                # dataio sends them as one "churn_risk.raised" webhook per chunk (core.hooks).
                hook_run("churn_risk_raised", scores=raised)
    return len(ids)


@dataclass(frozen=True)
class ChurnRiskRaise:
    """A customer whose churn risk rose into a higher band (hook ``churn_risk_raised``)."""

    customer_id: int
    scored_at: date
    from_band: str
    to_band: str
    from_risk: float
    to_risk: float


def _risk_raises(
    *, as_of: date, scores: pd.DataFrame, previous: pd.DataFrame, replaced: pd.Series
) -> list[ChurnRiskRaise]:
    """Return the customers whose risk band is higher than at their previous score.

    A first score raises nothing (as with the events), and a re-run of the same
    day announces no rise twice: the band of the score it replaces counts as
    already announced.
    """
    old = previous["churn_risk"].to_numpy(dtype=np.float64)
    new = scores["churn_risk"].to_numpy(dtype=np.float64)
    old_rank = selectors.risk_band_rank(old)
    new_rank = selectors.risk_band_rank(new)
    announced = np.maximum(old_rank, selectors.risk_band_rank(replaced.to_numpy(np.float64)))
    ids = scores.index.to_numpy()
    bands = selectors.RISK_BAND_ORDER
    return [
        ChurnRiskRaise(
            customer_id=int(ids[i]),
            scored_at=as_of,
            from_band=bands[old_rank[i]],
            to_band=bands[new_rank[i]],
            from_risk=round(float(old[i]), 4),
            to_risk=round(float(new[i]), 4),
        )
        for i in np.flatnonzero((old_rank >= 0) & (new_rank > announced))
    ]


def _value_classes_copy(*, as_of: date, id_range: tuple[int, int]) -> None:
    """Copy the new value classes onto the customers of the range (changed rows only)."""
    new_class = Subquery(
        CustomerScore.objects.filter(customer_id=OuterRef("pk"), scored_at=as_of).values(
            "value_class"
        )[:1]
    )
    Customer.objects.filter(
        id__gte=id_range[0], id__lte=id_range[1], scores__scored_at=as_of
    ).exclude(value_class=new_class).update(value_class=new_class)


def _events_raise(
    *,
    run_id: int,
    as_of: date,
    now: Any,
    scores: pd.DataFrame,
    previous: pd.DataFrame,
    threshold: float,
) -> None:
    """Write phase-change and risk-crossing events for customers scored before.

    A customer's first score raises nothing: otherwise the first run would
    flood campaigns with one event per customer.
    """
    known = previous["phase"].notna().to_numpy()
    phase_changed = known & previous["phase"].ne(scores["phase"]).to_numpy()
    old_risk = previous["churn_risk"].to_numpy(dtype=np.float64)
    new_risk = scores["churn_risk"].to_numpy(dtype=np.float64)
    up = known & (old_risk < threshold) & (new_risk >= threshold)
    down = known & (old_risk >= threshold) & (new_risk < threshold)
    ids = scores.index.to_numpy()
    rows = [
        AnalyticsEvent(
            kind=AnalyticsEvent.Kind.PHASE_CHANGE,
            customer_id=int(ids[i]),
            run_id=run_id,
            occurred_on=as_of,
            created_at=now,
            payload={"from": previous["phase"].iat[i], "to": scores["phase"].iat[i]},
        )
        for i in np.flatnonzero(phase_changed)
    ] + [
        AnalyticsEvent(
            kind=AnalyticsEvent.Kind.RISK_CROSSED_THRESHOLD,
            customer_id=int(ids[i]),
            run_id=run_id,
            occurred_on=as_of,
            created_at=now,
            payload={
                "from": round(float(old_risk[i]), 4),
                "to": round(float(new_risk[i]), 4),
                "threshold": threshold,
                "direction": "up" if up[i] else "down",
            },
        )
        for i in np.flatnonzero(up | down)
    ]
    # A re-run of the same day keeps the events already raised (and maybe consumed).
    AnalyticsEvent.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
