"""Reads of surveys, invitations and answers, always starting from the access predicate."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from stammkunde.core.access import User, access_object
from stammkunde.core.roles import ADMIN, TEAM_LEAD, has_role, is_internal
from stammkunde.service import selectors as service_selectors

from . import analysis
from .models import Answer, Invitation, QuestionType, Response, Survey, SurveyVersion, Trigger
from .sentiment import sentiment_score
from .themes import Theme, ThemeModel
from .tokens import key_from_token, survey_url

#: Dimensions the report can split by (label keys; the frame has one column each).
DIMENSIONS = ("channel", "queue", "agent", "product", "category", "phase", "value_class", "survey")


def survey_list(*, user: User) -> QuerySet[Survey]:
    """Visible surveys with their answer counts."""
    return (
        Survey.objects.visible_to(user)
        .select_related("current_version")
        .annotate(
            n_responses=Count("versions__responses", distinct=True),
            n_invitations=Count("versions__invitations", distinct=True),
        )
        .prefetch_related("triggers")
        .order_by("name")
    )


def survey_invitations(*, survey: Survey, limit: int = 25) -> list[Invitation]:
    """The latest invitations of a survey with their public link (``link``) for staff.

    The link is the customer's personal page; staff open it to check what the
    customer sees or hand it over by phone.
    """
    rows = list(
        Invitation.objects.filter(version__survey=survey)
        .select_related("customer", "source_ticket", "version")
        .prefetch_related("responses")
        .order_by("-created_at", "-id")[:limit]
    )
    for invitation in rows:
        invitation.link = survey_url(invitation.key)  # type: ignore[attr-defined]
        invitation.response = next(iter(invitation.responses.all()), None)  # type: ignore[attr-defined]
    return rows


def survey_get(*, user: User, pk: Any) -> Survey:
    return access_object(Survey.objects.select_related("current_version"), user, pk=pk)


def version_get(*, user: User, pk: Any) -> SurveyVersion:
    return access_object(SurveyVersion.objects.select_related("survey"), user, pk=pk)


def survey_draft(survey: Survey) -> SurveyVersion | None:
    return survey.versions.filter(published_at__isnull=True).order_by("-number").first()


def response_get(*, user: User, pk: Any) -> Response:
    return access_object(
        Response.objects.select_related("version__survey", "customer", "invitation"), user, pk=pk
    )


def invitation_by_token(token: str) -> tuple[Invitation | None, str]:
    """Return (invitation, state) for a public link; state is ok/expired/used/invalid.

    A tampered token fails the signature check before any lookup, so the
    answer for it is the same as for an unknown one: "invalid".
    """
    key = key_from_token(token)
    if key is None:
        return None, "invalid"
    invitation = (
        Invitation.objects.select_related("version__survey", "customer").filter(key=key).first()
    )
    if invitation is None:
        return None, "invalid"
    if invitation.answered_at is not None or invitation.responses.exists():
        return invitation, "used"
    if invitation.expires_at <= timezone.now():
        return invitation, "expired"
    return invitation, "ok"


def customer_feedback_context(customer: Any, user: User) -> dict[str, Any]:
    """Context of the customer-page panel: the latest survey answers."""
    responses = list(
        Response.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("version__survey")
        .order_by("-submitted_at")[:5]
    )
    return {"responses": responses}


def ticket_survey_state_fill(*, ticket: Any, found: dict[str, Any]) -> None:
    """Say on the ticket page what the survey rules do for it (``ticket_survey_state`` hook).

    ``found["survey"]`` becomes a dict with ``state`` (answered, sent, queued,
    planned, waiting or refused), a German/English ``text`` and, where there is
    one, the ``invitation`` and its ``response``. Nothing is set when no survey
    rule looks at solved tickets.
    """
    from .services import InvitationSuppressed, invitation_refusal_check, ticket_solved_triggers

    invitation = (
        Invitation.objects.filter(source_ticket_id=ticket.pk)
        .select_related("version__survey")
        .order_by("-created_at")
        .first()
    )
    if invitation is not None:
        response = invitation.responses.order_by("-submitted_at").first()
        survey = invitation.version.survey.name
        if response is not None or invitation.answered_at is not None:
            state, text = "answered", _("Survey “%(s)s” answered") % {"s": survey}
        elif invitation.sent_at is not None:
            state = "sent"
            text = _("Survey “%(s)s” sent on %(d)s") % {
                "s": survey,
                "d": date_format(timezone.localtime(invitation.sent_at), "SHORT_DATETIME_FORMAT"),
            }
        else:
            state, text = "queued", _("Survey “%(s)s” is being sent") % {"s": survey}
        found["survey"] = {
            "state": state,
            "text": text,
            "invitation": invitation,
            "response": response,
        }
        return
    trigger = ticket_solved_triggers().order_by("delay_days", "id").first()
    if trigger is None:
        return
    survey = trigger.survey.name
    if ticket.solved_at is None:
        if trigger.delay_days:
            text = _("Survey “%(s)s” planned: %(n)d day(s) after the ticket is solved") % {
                "s": survey,
                "n": trigger.delay_days,
            }
        else:
            text = _("Survey “%(s)s” planned: sent when the ticket is solved") % {"s": survey}
        found["survey"] = {"state": "waiting", "text": text}
        return
    due = ticket.solved_at + timedelta(days=trigger.delay_days)
    if due > timezone.now():
        found["survey"] = {
            "state": "planned",
            "text": _("Survey “%(s)s” planned for %(d)s (the survey job runs every hour)")
            % {"s": survey, "d": date_format(timezone.localtime(due), "SHORT_DATETIME_FORMAT")},
        }
        return
    if ticket.customer is None:
        reason = _("the ticket has no customer")
    else:
        try:
            invitation_refusal_check(
                survey=trigger.survey,
                customer=ticket.customer,
                dedupe_key=f"ticket:{ticket.pk}",
                gap=trigger.min_gap_days,
                now=timezone.now(),
            )
        except InvitationSuppressed as exc:
            reason = exc.message
        else:
            reason = _("waiting for the next run of the survey job (every hour)")
            found["survey"] = {
                "state": "planned",
                "text": _("Survey “%(s)s” planned: %(r)s") % {"s": survey, "r": reason},
            }
            return
    found["survey"] = {
        "state": "refused",
        "text": _("No survey “%(s)s”: %(r)s") % {"s": survey, "r": reason},
    }


# --------------------------------------------------------------------- report


def _ticket_fields() -> list[str]:
    return [
        "invitation__source_ticket__channel",
        "invitation__source_ticket__queue__name",
        "invitation__source_ticket__assignee__username",
        "invitation__source_ticket__product__name",
        "invitation__source_ticket__category__name",
        "invitation__source_ticket__product__category__name",
    ]


def response_frame(
    *, user: User, since: datetime | None = None, survey_id: int | None = None
) -> pd.DataFrame:
    """One row per visible response with scores and the report dimensions.

    Channel, queue, agent, product and category come from the surveyed ticket
    (category: the ticket's, else its product's); phase and value class are
    the customer's when invited (analytics' phase at that time).
    """
    qs = Response.objects.visible_to(user)
    if since is not None:
        qs = qs.filter(submitted_at__gte=since)
    if survey_id is not None:
        qs = qs.filter(version__survey_id=survey_id)
    cols = [
        "id",
        "submitted_at",
        "nps",
        "csat",
        "ces",
        "sentiment",
        "channel",
        "version__survey__name",
        "invitation__phase",
        "invitation__value_class",
        "customer__value_class",
        *_ticket_fields(),
    ]
    rows = list(qs.values_list(*cols))
    frame = pd.DataFrame(rows, columns=cols)
    out = pd.DataFrame(
        {
            "id": frame["id"],
            "submitted_at": pd.to_datetime(frame["submitted_at"], utc=True),
            "nps": pd.to_numeric(frame["nps"]).astype(float),
            "csat": pd.to_numeric(frame["csat"]).astype(float),
            "ces": pd.to_numeric(frame["ces"]).astype(float),
            "sentiment": pd.to_numeric(frame["sentiment"]).astype(float),
            "channel": frame["invitation__source_ticket__channel"].fillna(frame["channel"]),
            "queue": frame["invitation__source_ticket__queue__name"].fillna("–"),
            "agent": frame["invitation__source_ticket__assignee__username"].fillna("–"),
            "product": frame["invitation__source_ticket__product__name"].fillna("–"),
            "category": frame["invitation__source_ticket__category__name"]
            .fillna(frame["invitation__source_ticket__product__category__name"])
            .fillna("–"),
            "phase": frame["invitation__phase"].replace("", np.nan).fillna("–"),
            "value_class": frame["invitation__value_class"]
            .replace("", np.nan)
            .fillna(frame["customer__value_class"].replace("", np.nan))
            .fillna("–"),
            "survey": frame["version__survey__name"],
        }
    )
    return out


def response_rates(*, user: User, since: datetime | None = None) -> list[dict[str, Any]]:
    """Invitations sent and answered per survey, with the rate and its Wilson interval."""
    qs = Invitation.objects.visible_to(user).filter(sent_at__isnull=False)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    rows = (
        qs.values("version__survey__name")
        .annotate(invited=Count("id"), answered=Count("id", filter=Q(answered_at__isnull=False)))
        .order_by("version__survey__name")
    )
    out = []
    for row in rows:
        est = analysis.response_rate(row["answered"], row["invited"])
        out.append({"survey": row["version__survey__name"], **row, "rate": est})
    return out


def feedback_report(
    *, user: User, days: int = 365, by: str = "", survey_id: int | None = None
) -> dict[str, Any]:
    """Figures for the report page: overall NPS/CSAT/CES, monthly series, a split by ``by``."""
    since = timezone.now() - timedelta(days=days)
    frame = response_frame(user=user, since=since, survey_id=survey_id)
    overall = {m: analysis.summarize(frame, metric=m) for m in analysis.METRICS}
    monthly = {m: analysis.summarize(frame, metric=m, period="M") for m in analysis.METRICS}
    split = {}
    if by in DIMENSIONS:
        split = {m: analysis.summarize(frame, metric=m, by=[by]) for m in analysis.METRICS}
    return {
        "n": len(frame),
        "overall": {
            m: (
                # A row of a float frame: n comes back as 373.0 and would show as "373,0".
                analysis.Estimate(
                    value=float(df["value"].iat[0]),
                    low=float(df["low"].iat[0]),
                    high=float(df["high"].iat[0]),
                    n=int(df["n"].iat[0]),
                )
                if len(df)
                else analysis.EMPTY
            )
            for m, df in overall.items()
        },
        "monthly": monthly,
        "split": split,
        "rates": response_rates(user=user, since=since),
    }


def _ticket_message_texts(*, since: datetime, limit: int) -> list[str]:
    return service_selectors.inbound_message_texts(since=since, limit=limit)


def feedback_texts(
    *, user: User, since: datetime, source: str = "answers", limit: int = 20_000
) -> list[str]:
    """Free-text survey answers (``source="answers"``) or inbound ticket messages ("tickets")."""
    if not is_internal(user):
        return []
    if source == "tickets":
        return [t[:2000] for t in _ticket_message_texts(since=since, limit=limit) if t.strip()]
    return list(
        Answer.objects.visible_to(user)
        .filter(response__submitted_at__gte=since, question__type=QuestionType.TEXT)
        .exclude(text="")
        .order_by("-response__submitted_at")
        .values_list("text", flat=True)[:limit]
    )


def feedback_themes(
    *, user: User, days: int = 365, n_themes: int = 10, source: str = "answers"
) -> list[Theme]:
    """Themes in survey comments or ticket messages of the last ``days`` (TF-IDF + NMF)."""
    texts = feedback_texts(user=user, since=timezone.now() - timedelta(days=days), source=source)
    return ThemeModel(n_themes=n_themes).fit(texts).themes_


# ------------------------------------------------------ signals for analytics


def feedback_signals(*, as_of: date, window_days: int = 90) -> pd.DataFrame:
    """Per customer: last survey score on a 1–5 scale and negative messages in the window.

    The contract with analytics' unvoiced dissatisfaction
    (``analytics.models.unvoiced``): index ``customer_id``, columns
    ``survey_score_last`` (NPS 0–10 mapped linearly to 1–5, else CSAT 1–5,
    else CES 1–7 mapped linearly; CES is "it was easy …" agreement, 7 = easy),
    ``sentiment_last`` (the last free-text sentiment, −1..1) and
    ``negative_messages_90d`` (answers and inbound ticket messages whose
    sentiment is below −0.3). No access check: a system read for scoring.
    """
    end = timezone.make_aware(datetime.combine(as_of, time.max))
    start = end - timedelta(days=window_days)
    rows = list(
        Response.objects.filter(customer__isnull=False, submitted_at__lte=end)
        .order_by("customer_id", "submitted_at", "id")
        .values_list("customer_id", "submitted_at", "nps", "csat", "ces", "sentiment")
    )
    frame = pd.DataFrame(
        rows, columns=["customer_id", "at", "nps", "csat", "ces", "sentiment"]
    ).astype({"nps": float, "csat": float, "ces": float, "sentiment": float})
    score = (1 + frame["nps"] * 0.4).fillna(frame["csat"]).fillna(1 + (frame["ces"] - 1) * (4 / 6))
    frame["score"] = score
    last = frame.groupby("customer_id").last() if len(frame) else frame.set_index("customer_id")
    result = pd.DataFrame(
        {
            "survey_score_last": last["score"] if len(last) else pd.Series(dtype=float),
            "sentiment_last": last["sentiment"] if len(last) else pd.Series(dtype=float),
        }
    )
    negative = (
        frame[(frame["sentiment"] < -0.3) & (pd.to_datetime(frame["at"], utc=True) >= start)]
        .groupby("customer_id")["sentiment"]
        .count()
    )
    negative = negative.add(_negative_ticket_messages(start=start, end=end), fill_value=0)
    result = result.join(negative.rename("negative_messages_90d"), how="outer")
    result["negative_messages_90d"] = result["negative_messages_90d"].fillna(0).astype(int)
    result.index.name = "customer_id"
    return result


def _negative_ticket_messages(*, start: datetime, end: datetime) -> pd.Series:
    rows = service_selectors.inbound_message_bodies_by_customer(start=start, end=end)
    counts: dict[int, int] = {}
    for customer_id, body in rows.iterator(chunk_size=5000):
        if sentiment_score(body[:2000]) < -0.3:
            counts[customer_id] = counts.get(customer_id, 0) + 1
    return pd.Series(counts, dtype=float)


def text_sentiment(text: str) -> float:
    """The sentiment score of one text (the lexicon scorer; see feedback.sentiment)."""
    return sentiment_score(text)


def customer_data_export(customer: Any) -> dict[str, Any]:
    """Survey invitations, responses and answers of ``customer`` (Art. 15)."""
    from stammkunde.core.personal import rows

    responses = Response.objects.filter(customer=customer)
    return {
        "survey_invitations": rows(Invitation.objects.filter(customer=customer)),
        "survey_responses": rows(responses),
        "survey_answers": rows(Answer.objects.filter(response__in=responses.values("id"))),
    }


# --------------------------------------------------------------------------- settings page


def may_set_survey_rules(user: User) -> bool:
    """Who edits the survey rules on the settings page (``/feedback/rules/``)."""
    return has_role(user, ADMIN, TEAM_LEAD)


def triggers_list(*, user: User) -> QuerySet[Trigger]:
    """Every survey trigger ``user`` may see, by survey, with its survey."""
    return Trigger.objects.visible_to(user).select_related("survey").order_by("survey__name", "id")


def trigger_get(*, user: User, pk: Any) -> Trigger:
    """One trigger ``user`` may see, or Http404."""
    return access_object(Trigger.objects.select_related("survey"), user, pk=pk)
