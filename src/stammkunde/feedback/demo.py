"""Demo surveys for the demo shop: CSAT after tickets and a relationship NPS with answers.

Scores and free text follow the demo's ground truth: a customer's latent
satisfaction falls with the rank of their true dropout probability
(``demo.CustomerTruth``) and further if they really dropped out, so churners
answer worse, answer less often and write more negative comments. Comments
are German or English (the customer's language) and each is about one of a
few planted themes, so that the theme extraction can be checked against
known labels (``PLANTED``). Everything is written with set-based inserts.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from stammkunde.core.db import bulk_insert, next_id, sequences_reset
from stammkunde.core.hooks import hook_run
from stammkunde.customers.models import Consent, Customer, Interaction
from stammkunde.customers.services import timeline_text_summary
from stammkunde.service import selectors as service_selectors

from . import services, timeline
from .models import Answer, Invitation, Response, Survey, Trigger
from .sentiment import sentiment_score

CSAT_NAME = "CSAT nach Ticket"
NPS_NAME = "Beziehungs-NPS"

# theme -> polarity -> language -> sentences. The first sentence of a comment
# identifies its planted theme (see ``planted_theme``).
PLANTED: dict[str, dict[str, dict[str, list[str]]]] = {
    "delivery": {
        "neg": {
            "de": [
                "Die Lieferung kam zwei Wochen zu spät.",
                "Paket kam beschädigt an, die Lieferung hat ewig gedauert.",
                "Lieferung verspätet und keiner sagt Bescheid.",
            ],
            "en": [
                "The delivery was two weeks late.",
                "Parcel arrived damaged and delivery took ages.",
            ],
        },
        "pos": {
            "de": ["Lieferung schnell und pünktlich, Paket gut verpackt."],
            "en": ["Fast delivery, the parcel was well packed."],
        },
    },
    "workshop": {
        "neg": {
            "de": [
                "Die Reparatur in der Werkstatt hat drei Wochen gedauert.",
                "Werkstatttermin erst nach Wochen, Bremse danach immer noch kaputt.",
                "Reparatur war teuer und die Schaltung hakt weiterhin.",
            ],
            "en": [
                "The workshop repair took three weeks.",
                "Waited weeks for a repair appointment and the brakes are still broken.",
            ],
        },
        "pos": {
            "de": [
                "Werkstatt hat die Bremse schnell und sauber repariert.",
                "Reparatur am selben Tag, super Werkstatt.",
            ],
            "en": ["The workshop fixed my brakes quickly, great repair."],
        },
    },
    "staff": {
        "neg": {
            "de": [
                "Der Mitarbeiter im Laden war unfreundlich und hatte keine Ahnung.",
                "Beratung im Laden war unhöflich, ich wurde ignoriert.",
            ],
            "en": ["The staff in the shop were rude and ignored me."],
        },
        "pos": {
            "de": [
                "Sehr freundliche und kompetente Beratung im Laden.",
                "Mitarbeiter haben sich viel Zeit für die Beratung genommen, danke!",
                "Tolle Beratung beim Fahrradkauf, sehr kompetent.",
            ],
            "en": [
                "Very friendly staff and competent advice in the shop.",
                "Great advice when buying my bike, thank you!",
            ],
        },
    },
    "price": {
        "neg": {
            "de": [
                "Die Preise sind viel zu hoch, online ist alles günstiger.",
                "Überteuert, für den Preis erwarte ich mehr.",
            ],
            "en": ["Prices are too high, everything is cheaper online."],
        },
        "pos": {
            "de": ["Fairer Preis und guter Service."],
            "en": ["Fair prices and good service."],
        },
    },
    "battery": {
        "neg": {
            "de": [
                "Der Akku vom E-Bike hält nur noch halb so lange, Garantie abgelehnt.",
                "E-Bike Akku defekt, Ersatz dauert Monate.",
            ],
            "en": ["The e-bike battery died after a year and warranty was refused."],
        },
        "pos": {
            "de": ["Akku vom E-Bike wurde auf Garantie sofort getauscht, top."],
            "en": ["They replaced my e-bike battery under warranty right away."],
        },
    },
    "returns": {
        "neg": {
            "de": [
                "Rückerstattung für die Retoure kam erst nach sechs Wochen.",
                "Retoure abgelehnt, das Geld ist weg, sehr ärgerlich.",
            ],
            "en": ["The refund for my return took six weeks."],
        },
        "pos": {
            "de": ["Retoure unkompliziert, Geld war schnell zurück."],
            "en": ["Easy return and a quick refund."],
        },
    },
}
THEME_WEIGHTS = {
    "delivery": 0.22,
    "workshop": 0.24,
    "staff": 0.2,
    "price": 0.12,
    "battery": 0.1,
    "returns": 0.12,
}
_FIRST_SENTENCE: dict[str, str] = {
    s: theme
    for theme, polarities in PLANTED.items()
    for languages in polarities.values()
    for sentences in languages.values()
    for s in sentences
}


def planted_theme(text: str) -> str | None:
    """The planted theme of a demo comment (by its first sentence), for validation."""
    for sentence, theme in _FIRST_SENTENCE.items():
        if text.startswith(sentence):
            return theme
    return None


@dataclass
class FeedbackDemoResult:
    invitations: int = 0
    responses: int = 0
    answers: int = 0
    follow_ups: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def _surveys() -> tuple[Survey, Survey]:
    csat = Survey.objects.filter(name=CSAT_NAME).first() or services.survey_create(
        actor=None,
        name=CSAT_NAME,
        kind=Survey.Kind.CSAT,
        title_de="Wie zufrieden waren Sie mit unserem Service?",
        title_en="How satisfied were you with our service?",
        intro_de="Sie hatten kürzlich Kontakt mit unserem Kundenservice.",
        intro_en="You recently contacted our customer service.",
        questions=[
            {"type": "csat", "text_de": "Wie zufrieden waren Sie mit der Lösung?",
             "text_en": "How satisfied were you with the solution?"},
            {"type": "ces", "text_de": "Es war einfach, mein Anliegen zu klären.",
             "text_en": "It was easy to get my issue resolved.", "optional": True},
            {"type": "text", "text_de": "Was können wir besser machen?",
             "text_en": "What could we do better?", "optional": True},
        ],
        publish=True,
    )  # fmt: skip
    nps = Survey.objects.filter(name=NPS_NAME).first() or services.survey_create(
        actor=None,
        name=NPS_NAME,
        kind=Survey.Kind.NPS,
        title_de="Würden Sie uns weiterempfehlen?",
        title_en="Would you recommend us?",
        questions=[
            {"type": "nps", "text_de": "Wie wahrscheinlich ist es, dass Sie uns einem Freund "
             "empfehlen?", "text_en": "How likely are you to recommend us to a friend?"},
            {"type": "single", "text_de": "Was ist Ihnen am wichtigsten?",
             "text_en": "What matters most to you?", "optional": True,
             "choices": "Beratung|advice; Werkstatt|workshop; Preis|price; Auswahl|range"},
            {"type": "text", "text_de": "Was ist der wichtigste Grund für Ihre Bewertung?",
             "text_en": "What is the main reason for your score?", "optional": True},
        ],
        publish=True,
    )  # fmt: skip
    if not csat.triggers.exists():
        services.trigger_create(actor=None, survey=csat, event=Trigger.Event.TICKET_SOLVED)
    if not nps.triggers.exists():
        services.trigger_create(
            actor=None, survey=nps, event=Trigger.Event.PERIODIC, period_days=180
        )
    return csat, nps


def _risk_rank(customer_ids: np.ndarray) -> np.ndarray:
    """Per customer: percentile of the true dropout probability, +0.3 if really dropped out."""
    rows: dict[int, tuple[float, bool]] = {}
    hook_run("demo_truth", customer_ids=sorted(set(customer_ids.tolist())), found=rows)
    probs = np.array([rows.get(int(c), (np.nan, False))[0] for c in customer_ids], float)
    dropped = np.array([rows.get(int(c), (0.0, False))[1] for c in customer_ids])
    known = ~np.isnan(probs)
    rank = np.full(customer_ids.size, 0.5)
    if known.any():
        order = probs[known].argsort().argsort()
        rank[known] = order / max(known.sum() - 1, 1)
    return np.clip(rank * 0.7 + 0.3 * dropped, 0, 1)


def _comment(rng: np.random.Generator, polarity: str, language: str) -> str:
    themes = list(THEME_WEIGHTS)
    theme = themes[rng.choice(len(themes), p=np.array(list(THEME_WEIGHTS.values())))]
    sentences = PLANTED[theme][polarity][language]
    text = sentences[rng.integers(len(sentences))]
    if rng.random() < 0.3:  # a second, unrelated remark, as real comments have
        others = [t for t in themes if t != theme]
        other = others[rng.integers(len(others))]
        extra = PLANTED[other][polarity][language]
        text += " " + extra[rng.integers(len(extra))]
    return text


@transaction.atomic
def feedback_demo_generate(
    *, seed: int, end: datetime | None = None, months: int = 12
) -> FeedbackDemoResult:
    """Add the two demo surveys with invitations, answers and comments (idempotent)."""
    started = time.perf_counter()
    result = FeedbackDemoResult()
    csat, nps = _surveys()
    if Response.objects.filter(version__survey__in=[csat, nps]).exists():
        return result
    rng = np.random.default_rng(seed + 29)
    end = end or timezone.now()
    start = end - timedelta(days=30 * months)
    consenting = Customer.objects.filter(
        consents__purpose=Consent.Purpose.FEEDBACK, consents__status="granted"
    ).filter(demo_truth__isnull=False, first_purchase_at__isnull=False)
    rows = np.array(list(consenting.values_list("id", flat=True).distinct().order_by("id")))
    languages = dict(
        Customer.objects.filter(id__in=rows.tolist()).values_list("id", "preferred_language")
    )
    value_classes = dict(
        Customer.objects.filter(id__in=rows.tolist()).values_list("id", "value_class")
    )
    plans: list[dict[str, Any]] = []
    # Relationship NPS: 60 % of consenting buyers were invited once in the period.
    if rows.size:
        invited = rows[rng.random(rows.size) < 0.6]
        for cid in invited.tolist():
            at = start + timedelta(seconds=float(rng.uniform(0, (end - start).total_seconds())))
            plans.append({"survey": nps, "customer": cid, "at": at, "ticket": None})
    # CSAT after solved tickets of consenting customers (when the service demo ran).
    tickets = list(
        service_selectors.tickets_solved_between(after=start, until=end)
        .filter(customer_id__in=rows.tolist())
        .order_by("id")
        .values_list("id", "customer_id", "solved_at", "first_contact_resolved")
    )
    for tid, cid, solved_at, fcr in tickets:
        if solved_at is not None and rng.random() < 0.8:
            plans.append(
                {"survey": csat, "customer": cid, "at": solved_at + timedelta(hours=2),
                 "ticket": tid, "fcr": fcr}
            )  # fmt: skip
    if not plans:
        return result
    customer_ids = np.array([p["customer"] for p in plans])
    risk = _risk_rank(customer_ids)
    _write(rng, plans, risk, languages, value_classes, end, result)
    result.follow_ups = _live_follow_ups(csat, nps, end)
    result.seconds = time.perf_counter() - started
    return result


def _write(
    rng: np.random.Generator,
    plans: list[dict[str, Any]],
    risk: np.ndarray,
    languages: dict[int, str],
    value_classes: dict[int, str],
    end: datetime,
    result: FeedbackDemoResult,
) -> None:
    ids = {m: next_id(m) for m in (Invitation, Response, Answer, Interaction)}
    inv_rows, resp_rows, ans_rows, entries = [], [], [], []
    response_ct = ContentType.objects.get_for_model(Response).pk
    questions = {
        p["survey"].pk: list(p["survey"].current_version.questions.order_by("order")) for p in plans
    }
    for plan, r in zip(plans, risk.tolist(), strict=True):
        survey, cid, at = plan["survey"], plan["customer"], plan["at"]
        version = survey.current_version
        lang = languages.get(cid) or "de"
        inv_id = ids[Invitation]
        ids[Invitation] += 1
        # The live trigger's key for a ticket: solving it again invites nobody twice.
        dedupe = f"ticket:{plan['ticket']}" if plan["ticket"] else f"demo:{inv_id}"
        answered = rng.random() < 0.5 - 0.3 * r
        answered_at = at + timedelta(hours=float(rng.uniform(1, 72))) if answered else None
        if answered_at is not None and answered_at > end:
            answered_at = None
        inv_rows.append(
            (inv_id, cid, version.pk, secrets.token_urlsafe(24), dedupe, lang, "email",
             "", plan["ticket"], value_classes.get(cid) or "", at, at + timedelta(days=14), at,
             answered_at)
        )  # fmt: skip
        if answered_at is None:
            continue
        qs = questions[survey.pk]
        rid = ids[Response]
        ids[Response] += 1
        values: dict[str, int | None] = {"nps": None, "csat": None, "ces": None}
        penalty = 0.15 if plan.get("fcr") is False else 0.0
        mood = float(np.clip(0.95 - 0.7 * r - penalty + rng.normal(0, 0.2), 0, 1))
        for q in qs:
            if q.type == "nps":
                values["nps"] = int(np.clip(round(mood * 11 - 0.5 + rng.normal(0, 0.8)), 0, 10))
            elif q.type == "csat":
                values["csat"] = int(np.clip(round(1 + mood * 4 + rng.normal(0, 0.5)), 1, 5))
            elif q.type == "ces" and rng.random() < 0.7:
                values["ces"] = int(np.clip(round(1 + mood * 6 + rng.normal(0, 0.9)), 1, 7))
        unhappy = (values["nps"] is not None and values["nps"] <= 6) or (
            values["csat"] is not None and values["csat"] <= 2
        )
        comment = ""
        if rng.random() < (0.75 if unhappy else 0.4):
            polarity = "neg" if unhappy or (mood < 0.55 and rng.random() < 0.6) else "pos"
            comment = _comment(rng, polarity, lang)
        sentiment = sentiment_score(comment) if comment else None
        resp_rows.append(
            (rid, inv_id, version.pk, cid, "link", "email", lang, answered_at, values["nps"],
             values["csat"], values["ces"], sentiment)
        )  # fmt: skip
        for q in qs:
            value = values.get(q.type) if q.type in values else None
            text, choices = "", []
            if q.type == "text":
                text = comment
            elif q.type == "single" and rng.random() < 0.6:
                choices = [q.choices[int(rng.integers(len(q.choices)))]["value"]]
            if value is None and not text and not choices:
                continue
            ans_rows.append(
                (ids[Answer], rid, q.pk, value, choices, text, sentiment if text else None)
            )
            ids[Answer] += 1
        scores = ", ".join(f"{k.upper()} {v}" for k, v in values.items() if v is not None)
        key = timeline.RESPONSE if scores else timeline.RESPONSE_WITHOUT_SCORES
        params = {"survey": survey.name, "scores": scores}
        entries.append(
            (ids[Interaction], cid, answered_at, "web", "in", "survey_response",
             timeline_text_summary(key, params), response_ct, str(rid), key, params)
        )  # fmt: skip
        ids[Interaction] += 1
    inv_cols = [
        "id", "customer", "version", "key", "dedupe_key", "language", "channel", "email",
        "source_ticket", "value_class", "created_at", "expires_at", "sent_at", "answered_at",
    ]  # fmt: skip
    result.invitations = bulk_insert(Invitation, inv_cols, inv_rows)
    result.responses = bulk_insert(
        Response,
        ["id", "invitation", "version", "customer", "source", "channel", "language",
         "submitted_at", "nps", "csat", "ces", "sentiment"],
        resp_rows,
    )  # fmt: skip
    result.answers = bulk_insert(
        Answer, ["id", "response", "question", "value", "choices", "text", "sentiment"], ans_rows
    )
    bulk_insert(
        Interaction,
        ["id", "customer", "occurred_at", "channel", "direction", "kind", "summary",
         "source_type", "source_id", "text_key", "text_params"],
        entries,
    )  # fmt: skip
    sequences_reset(Invitation, Response, Answer, Interaction)


def _live_follow_ups(csat: Survey, nps: Survey, end: datetime, limit: int = 8) -> int:
    """Open follow-up tickets through the real service for the latest detractors."""
    if service_selectors.queue_first() is None:
        return 0
    recent = (
        Response.objects.filter(
            version__survey__in=[csat, nps], submitted_at__gte=end - timedelta(days=21)
        )
        .filter(Q(nps__lte=services.DETRACTOR_NPS_MAX) | Q(csat__lte=services.UNHAPPY_CSAT_MAX))
        .select_related("version__survey", "invitation__source_ticket", "customer")
        .order_by("-submitted_at")[:limit]
    )
    made = 0
    for response in recent:
        answers = list(response.answers.select_related("question"))
        scores = ", ".join(
            f"{k.upper()} {getattr(response, k)}"
            for k in ("nps", "csat", "ces")
            if getattr(response, k) is not None
        )
        ticket = services.follow_up_ticket_open(response, answers, scores=scores, now=end)
        if ticket is not None:
            Response.objects.filter(pk=response.pk).update(follow_up_ticket=ticket)
            made += 1
    return made
