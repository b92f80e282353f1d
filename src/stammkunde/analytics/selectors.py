"""Reads for analytics: set-based frames for scoring, and what the UI shows.

The frame loaders read whole columns with one query each (COPY on
PostgreSQL, one cursor on SQLite) into pandas; building model instances for
millions of orders would cost more than the statistics.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time
from typing import Any, cast

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from stammkunde.commerce.models import Order, Return
from stammkunde.core.access import User
from stammkunde.customers.models import Consent, Customer
from stammkunde.service import selectors as service_selectors

from .models.lifecycle import PHASE_LABELS, PHASES
from .models.rfm import SEGMENT_LABELS
from .models.unvoiced import EVIDENCE_PHRASES
from .orm import AnalyticsEvent, CustomerScore, ModelRun, PhaseChange
from .scoring import LABEL_HORIZON_DAYS


def _day_end(as_of: date) -> datetime:
    return timezone.make_aware(datetime.combine(as_of, time.max), timezone.get_fixed_timezone(0))


def _frame(qs: QuerySet[Any], columns: list[str], *, dates: tuple[str, ...] = ()) -> pd.DataFrame:
    """Run a ``values_list`` queryset and return its rows as a frame with ``columns``."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY streams text without building a Python tuple per row.
            buffer = io.BytesIO()
            query = cursor.cursor.mogrify(sql, params)
            with cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
                for block in copy:
                    buffer.write(block)
            buffer.seek(0)
            frame = (
                pd.read_csv(buffer, header=None, names=columns)
                if buffer.getbuffer().nbytes
                else pd.DataFrame({c: [] for c in columns})
            )
        else:
            cursor.execute(sql, params)
            frame = pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
    for column in dates:
        # Stored in UTC; the model works in naive UTC days.
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601").dt.tz_localize(
            None
        )
    return frame


def _in_range(qs: QuerySet[Any], id_range: tuple[int, int] | None) -> QuerySet[Any]:
    if id_range is None:
        return qs
    return qs.filter(customer_id__gte=id_range[0], customer_id__lte=id_range[1])


def transactions_frame(*, as_of: date, id_range: tuple[int, int] | None = None) -> pd.DataFrame:
    """Return paid orders up to ``as_of`` as (customer_id, date, amount), sorted by customer."""
    qs = _in_range(
        Order.objects.filter(status=Order.Status.PAID, ordered_at__lte=_day_end(as_of)), id_range
    ).order_by("customer_id", "ordered_at")
    frame = _frame(
        qs.values_list("customer_id", "ordered_at", "total"),
        ["customer_id", "date", "amount"],
        dates=("date",),
    )
    frame["customer_id"] = frame["customer_id"].astype(np.int64)
    frame["amount"] = pd.to_numeric(frame["amount"]).astype(np.float64)
    return frame


def _tickets_frame(*, as_of: date, id_range: tuple[int, int] | None) -> pd.DataFrame:
    """Return the customers' tickets as signal rows (customer_id, at and 0/1 flags).

    The service desk decides what a complaint, a breach, a reopened ticket and
    a failed first contact are (``service.selectors.ticket_churn_signals``).
    """
    qs = service_selectors.ticket_churn_signals(
        until=_day_end(as_of), customer_id_range=id_range
    ).order_by()
    columns = ["customer_id", "at", "complaint", "sla_breached", "reopened", "fcr_failed"]
    frame = _frame(qs, columns, dates=("at",))
    for column in columns[2:]:
        frame[column] = pd.to_numeric(frame[column]).astype(np.int64)
    return frame


def _feedback_frame(*, days: list[date], id_range: tuple[int, int] | None) -> pd.DataFrame | None:
    """Return the feedback app's per-customer survey and wording signals for each day."""
    try:
        from stammkunde.feedback.selectors import feedback_signals
    except ImportError:  # a deployment without the feedback app
        return None
    frames = []
    for day in days:
        frame = feedback_signals(as_of=day).reset_index()
        frame["as_of"] = day.isoformat()
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    if id_range is not None:
        ids = frame["customer_id"]
        frame = frame.loc[(ids >= id_range[0]) & (ids <= id_range[1])]
    return frame.sort_values("customer_id", kind="stable").reset_index(drop=True)


def signal_events(
    *,
    as_of: date,
    id_range: tuple[int, int] | None = None,
    also_as_of: tuple[date, ...] = (),
) -> dict[str, pd.DataFrame]:
    """Return the raw signal rows (returns, tickets, consents) up to ``as_of``.

    Feedback signals arrive aggregated per day, so they are loaded for
    ``as_of`` and every day in ``also_as_of`` (the churn model's calibration date).
    """
    end = _day_end(as_of)
    events = {
        "returns": _frame(
            _in_range(Return.objects.filter(returned_at__lte=end), id_range).values_list(
                "customer_id", "returned_at"
            ),
            ["customer_id", "at"],
            dates=("at",),
        ),
        "consents": _frame(
            _in_range(
                Consent.objects.filter(
                    at__lte=end, purpose__in=[Consent.Purpose.MARKETING, Consent.Purpose.NEWSLETTER]
                ),
                id_range,
            ).values_list("customer_id", "purpose", "channel", "status", "at"),
            ["customer_id", "purpose", "channel", "status", "at"],
            dates=("at",),
        ),
    }
    events["tickets"] = _tickets_frame(as_of=as_of, id_range=id_range)
    feedback = _feedback_frame(days=[as_of, *also_as_of], id_range=id_range)
    if feedback is not None:
        events["feedback"] = feedback
    return events


def previous_scores(*, before: date, id_range: tuple[int, int] | None = None) -> pd.DataFrame:
    """Return phase and churn risk of the last scoring day before ``before`` (index customer_id)."""
    last = CustomerScore.objects.filter(scored_at__lt=before).aggregate(d=Max("scored_at"))["d"]
    columns = ["customer_id", "phase", "churn_risk"]
    if last is None:
        return pd.DataFrame(columns=columns).set_index("customer_id")
    qs = _in_range(CustomerScore.objects.filter(scored_at=last), id_range)
    frame = pd.DataFrame.from_records(list(qs.values_list(*columns)), columns=columns)
    return frame.set_index("customer_id")


def risks_of_day(*, day: date, id_range: tuple[int, int] | None = None) -> pd.Series:
    """Return the churn risks stored for ``day`` (index customer_id); empty unless re-scoring."""
    rows = _in_range(CustomerScore.objects.filter(scored_at=day), id_range).values_list(
        "customer_id", "churn_risk"
    )
    return pd.Series(dict(rows), dtype=np.float64)


# ------------------------------------------------------------------ UI reads


def _label(pair: tuple[str, str]) -> str:
    return pair[0] if (get_language() or "de").startswith("de") else pair[1]


def phase_label(phase: str) -> str:
    """Return the phase in the UI language."""
    return _label(PHASE_LABELS.get(phase, (phase, phase)))


def customer_score_get(*, user: User, customer: Customer) -> CustomerScore | None:
    """Return the customer's latest score if the user may see it."""
    found = CustomerScore.objects.visible_to(user).filter(customer=customer, is_latest=True)
    return cast("CustomerScore | None", found.first())


def _value_formats() -> dict[str, tuple[str, int]]:
    """Return how a reason's input is shown: the sentence (``%(value)s``) and its decimals.

    Flags (loyalty, newsletter) have no entry: their phrase says it all.
    """
    from django.utils.translation import gettext

    return {
        "recency_days": (gettext("%(value)s days since the last purchase"), 0),
        "frequency": (gettext("%(value)s repeat purchases"), 0),
        "monetary_value": (gettext("average order %(value)s €"), 2),
        "T_days": (gettext("first purchase %(value)s days ago"), 0),
        "p_alive": (gettext("P(alive) %(value)s %%"), 0),
        "recency_drift": (gettext("%(value)s times the usual time between purchases"), 1),
        "tickets_90d": (gettext("%(value)s tickets in 90 days"), 0),
        "complaints_90d": (gettext("%(value)s complaints in 90 days"), 0),
        "returns_90d": (gettext("%(value)s returns in 90 days"), 0),
        "sla_breaches_90d": (gettext("%(value)s response-time breaches in 90 days"), 0),
        "reopened_90d": (gettext("%(value)s reopened tickets in 90 days"), 0),
        "fcr_failed_90d": (gettext("%(value)s not solved on first contact in 90 days"), 0),
        "survey_score_last": (gettext("last survey score %(value)s"), 1),
    }


def reason_value_text(feature: str, value: float | None) -> str:
    """Return the reason's input as the page shows it ("212 days since the last purchase")."""
    from django.utils.formats import number_format

    found = _value_formats().get(feature)
    if found is None or value is None:
        return ""
    text, decimals = found
    shown = value * 100 if feature == "p_alive" else value
    return text % {"value": number_format(shown, decimals, force_grouping=True)}


def _reasons_shown(reasons: list[dict[str, Any]], *, german: bool) -> list[dict[str, Any]]:
    """Each reason's phrase with the input it stands for (stored with the score)."""
    return [
        {
            "feature": r.get("feature", ""),
            "text": r["de" if german else "en"],
            "value": r.get("value"),
            "value_text": reason_value_text(r.get("feature", ""), r.get("value")),
        }
        for r in reasons
    ]


def customer_analytics_context(customer: Customer, user: User) -> dict[str, Any]:
    """Return the customer-page panel: phase, risk with reasons, CLV, class, P(alive).

    P(alive) is BG/NBD's probability that the customer has not dropped out; the
    churn risk is the classifier's probability of no purchase in the horizon.
    They answer different questions, and for a customer without a repeat
    purchase BG/NBD gives P(alive) = 1 by definition (no dropout can have been
    observed), so the panel says "not meaningful" there instead of 100 %.
    """
    score = customer_score_get(user=user, customer=customer)
    if score is None:
        return {"score": None}
    german = (get_language() or "de").startswith("de")
    return {
        "score": score,
        "phase_label": phase_label(score.phase),
        "segment_label": _label(
            SEGMENT_LABELS.get(score.rfm_segment, (score.rfm_segment, score.rfm_segment))
        ),
        "reasons": _reasons_shown(score.reasons, german=german),
        "alive_meaningful": score.frequency > 0,
        "horizon_days": LABEL_HORIZON_DAYS,
        "evidence": [
            _label(EVIDENCE_PHRASES.get(code, (code, code))) for code in score.unvoiced_evidence
        ],
        "risk_percent": round(score.churn_risk * 100),
        "alive_percent": round(score.p_alive * 100),
        "history": list(
            PhaseChange.objects.visible_to(user)
            .filter(customer=customer)
            .order_by("-changed_on")[:5]
        ),
    }


def run_latest(*, user: User) -> ModelRun | None:
    """Return the newest finished scoring run the user may see."""
    found = ModelRun.objects.visible_to(user).filter(status=ModelRun.Status.DONE)
    return cast("ModelRun | None", found.first())


def dashboard_data(*, user: User) -> dict[str, Any]:
    """Return the distributions behind the analytics page (latest scores only)."""
    latest = CustomerScore.objects.visible_to(user).filter(is_latest=True)
    risks = np.asarray(list(latest.values_list("churn_risk", flat=True)), dtype=np.float64)
    phases = dict(latest.values_list("phase").annotate(n=Count("id")).values_list("phase", "n"))
    classes = dict(
        latest.values_list("value_class").annotate(n=Count("id")).values_list("value_class", "n")
    )
    return {
        "risk_histogram": np.histogram(risks, bins=20, range=(0.0, 1.0))[0].tolist(),
        "phases": [(p, phase_label(p), phases.get(p, 0)) for p in PHASES],
        "classes": [(c, classes.get(c, 0)) for c in "ABC"],
        "n_scored": int(len(risks)),
        "unvoiced": latest.filter(unvoiced=True).count(),
        "events_open": AnalyticsEvent.objects.visible_to(user)
        .filter(consumed_at__isnull=True)
        .count(),
    }


def cohort_table(*, user: User, as_of: date, max_months: int = 12) -> pd.DataFrame | None:
    """Return the cohort retention table of the last two years of orders, or None."""
    from .models.cohort import cohort_retention

    if not Order.objects.visible_to(user).exists():
        return None
    since = (
        as_of.replace(year=as_of.year - 2)
        if not (as_of.month == 2 and as_of.day == 29)
        else as_of.replace(year=as_of.year - 2, day=28)
    )
    qs = (
        Order.objects.visible_to(user)
        .filter(
            status=Order.Status.PAID,
            ordered_at__lte=_day_end(as_of),
            customer__first_purchase_at__gte=_day_end(since),
        )
        .values_list("customer_id", "ordered_at")
    )
    tx = _frame(qs, ["customer_id", "date"], dates=("date",))
    if tx.empty:
        return None
    return cohort_retention(tx, customer_col="customer_id", date_col="date", max_months=max_months)


# ------------------------------------------------------- customer list filters

#: Risk bands of the customer list filter, matching the lifecycle cut-offs.
RISK_BANDS = {"high": (0.9, 1.01), "medium": (0.75, 0.9), "low": (0.0, 0.75)}
#: The band names from the lowest risk to the highest.
RISK_BAND_ORDER = tuple(sorted(RISK_BANDS, key=lambda band: RISK_BANDS[band][0]))


def risk_band_rank(risk: np.ndarray) -> np.ndarray:
    """Return each churn risk's band as its index in ``RISK_BAND_ORDER``; NaN (unknown) gives -1.

    Vectorised for the scoring chunks: the bands are the customer list's
    ``RISK_BANDS`` (lower bound inclusive), so "raised" means what the list shows.
    """
    edges = [RISK_BANDS[band][0] for band in RISK_BAND_ORDER[1:]]
    ranks = np.searchsorted(edges, risk, side="right")
    return np.where(np.isnan(risk), -1, ranks)


def phase_choices() -> list[tuple[str, str]]:
    """Return (value, label) of the lifecycle phases in the UI language."""
    return [(p, phase_label(p)) for p in PHASES]


def risk_choices() -> list[tuple[str, Any]]:
    """Return the churn-risk bands offered as a customer-list filter."""
    from django.utils.translation import gettext

    return [
        ("high", gettext("high (≥ 90 %)")),
        ("medium", gettext("medium (75–90 %)")),
        ("low", gettext("low (< 75 %)")),
    ]


def customers_in_phase(qs: QuerySet[Customer], phase: str) -> QuerySet[Customer]:
    """Narrow a customer queryset to those whose latest score is in ``phase``."""
    return qs.filter(
        id__in=CustomerScore.objects.filter(is_latest=True, phase=phase).values("customer_id")
    )


def customers_at_risk(qs: QuerySet[Customer], band: str) -> QuerySet[Customer]:
    """Narrow a customer queryset to a churn-risk band of the latest score."""
    low, high = RISK_BANDS[band]
    return qs.filter(
        id__in=CustomerScore.objects.filter(
            is_latest=True, churn_risk__gte=low, churn_risk__lt=high
        ).values("customer_id")
    )


# What each score means and which inputs it uses (DSGVO Art. 15(1)(h): "meaningful
# information about the logic involved"), in German and English like the labels above.
PROFILING_MEANING: dict[str, dict[str, tuple[str, str]]] = {
    "churn_risk": {
        "what": (
            "Abwanderungsrisiko: geschätzte Wahrscheinlichkeit (0 bis 1), dass Sie in den "
            "nächsten Monaten nicht mehr bei uns kaufen.",
            "Churn risk: the estimated probability (0 to 1) that you will not buy from us "
            "again in the coming months.",
        ),
        "inputs": (
            "Zeit seit dem letzten Kauf, Zahl und Wert der Käufe, Retouren, Servicefälle "
            "und Beschwerden, Umfrageantworten.",
            "Time since the last purchase, number and value of purchases, returns, service "
            "tickets and complaints, survey answers.",
        ),
        "use": (
            "Wir nutzen es, um Ihnen rechtzeitig Service oder Angebote zu machen; es führt "
            "zu keiner Entscheidung mit rechtlicher Wirkung.",
            "We use it to offer you service or offers in time; it leads to no decision with "
            "legal effect.",
        ),
    },
    "clv_12m": {
        "what": (
            "Kundenwert (CLV): der erwartete Umsatz mit Ihnen in den nächsten 12 Monaten, "
            "geschätzt mit den Modellen BG/NBD und Gamma-Gamma.",
            "Customer lifetime value (CLV): the expected revenue with you in the next 12 "
            "months, estimated with the BG/NBD and Gamma-Gamma models.",
        ),
        "inputs": (
            "Zahl der Wiederholungskäufe, Zeit seit dem ersten und letzten Kauf, "
            "durchschnittlicher Bestellwert.",
            "Number of repeat purchases, time since the first and the last purchase, "
            "average order value.",
        ),
        "use": (
            "Für die Einteilung in Wertklassen und die Auswahl von Angeboten.",
            "For the value classes and the choice of offers.",
        ),
    },
    "value_class": {
        "what": (
            "Wertklasse A, B oder C (ABC-Analyse): A sind die Kundinnen und Kunden mit dem "
            "höchsten erwarteten Wert.",
            "Value class A, B or C (ABC analysis): A are the customers with the highest "
            "expected value.",
        ),
        "inputs": (
            "Der Kundenwert (CLV) im Vergleich zu allen Kunden.",
            "The CLV compared with all customers.",
        ),
        "use": (
            "Service-Prioritäten und Angebote können davon abhängen.",
            "Service priorities and offers may depend on it.",
        ),
    },
    "phase": {
        "what": (
            "Lebenszyklus-Phase (neu, etabliert, abwanderungsgefährdet, abwandernd, verloren).",
            "Lifecycle phase (new, established, churn-prone, churning, lost).",
        ),
        "inputs": ("Abwanderungsrisiko und Kaufhistorie.", "Churn risk and purchase history."),
        "use": (
            "Welche Kampagnen Sie erhalten können.",
            "Which campaigns you may receive.",
        ),
    },
}


def customer_data_export(customer: Customer, *, language: str = "de") -> dict[str, Any]:
    """Scores with the meaning of the profiling and this person's reasons (Art. 15(1)(h))."""
    from stammkunde.core.personal import rows

    german = language.startswith("de")
    pick = 0 if german else 1
    latest = CustomerScore.objects.filter(customer=customer, is_latest=True).first()
    return {
        "profiling_meaning": {
            score: {part: texts[pick] for part, texts in parts.items()}
            for score, parts in PROFILING_MEANING.items()
        },
        "profiling_your_reasons": (
            [
                " – ".join(filter(None, (r["text"] or r["feature"], r["value_text"])))
                for r in _reasons_shown(latest.reasons, german=german)
            ]
            if latest
            else []
        ),
        "scores": rows(CustomerScore.objects.filter(customer=customer)),
        "phase_changes": rows(PhaseChange.objects.filter(customer=customer)),
        "analytics_events": rows(AnalyticsEvent.objects.filter(customer=customer)),
    }


# --- answers to hooks of lower apps (feedback asks about lifecycle phases) --------------


def customer_phases_fill(*, customer_ids: list[int], found: dict[int, str]) -> None:
    """Hook ``customer_phases``: the current (latest scored) phase of each customer."""
    found.update(
        CustomerScore.objects.filter(customer_id__in=customer_ids, is_latest=True).values_list(
            "customer_id", "phase"
        )
    )


def phase_entries_fill(
    *, phase: str, since: date, until: date, found: list[tuple[int, int]]
) -> None:
    """Hook ``phase_entries``: (change id, customer id) of who entered ``phase`` after ``since``."""
    found.extend(
        PhaseChange.objects.filter(to_phase=phase, changed_on__gt=since, changed_on__lte=until)
        .order_by("changed_on", "id")
        .values_list("id", "customer_id")
    )
