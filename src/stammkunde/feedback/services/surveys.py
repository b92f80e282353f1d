"""Surveys and their triggers: drafts, frozen published versions, trigger settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ApplicationError, validated

from ..models import CHOICE_TYPES, Question, QuestionType, Survey, SurveyVersion, Trigger

SURVEY_FIELDS = (
    "name", "kind", "title_de", "title_en", "intro_de", "intro_en", "thank_you_de",
    "thank_you_en", "active", "follow_up_queue",
)  # fmt: skip
VERSION_TEXT_FIELDS = (
    "title_de", "title_en", "intro_de", "intro_en", "thank_you_de", "thank_you_en",
)  # fmt: skip


def _questions_clean(questions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate question dicts from the builder/API; raise field errors ``questions``."""
    clean: list[dict[str, Any]] = []
    errors: list[str] = []
    for i, raw in enumerate(questions, start=1):
        qtype = str(raw.get("type") or "")
        text_de = str(raw.get("text_de") or "").strip()
        text_en = str(raw.get("text_en") or "").strip()
        if not qtype and not text_de and not text_en:
            continue  # an empty row of the builder
        if qtype not in QuestionType.values:
            errors.append(_("Question %(n)d: choose a type.") % {"n": i})
            continue
        if not text_de and not text_en:
            errors.append(_("Question %(n)d: the question text is missing.") % {"n": i})
            continue
        choices = raw.get("choices") or []
        if isinstance(choices, str):
            choices = [c.strip() for c in choices.replace("\n", ";").split(";") if c.strip()]
        parsed = []
        for c in choices:
            if isinstance(c, Mapping):
                parsed.append(
                    {"value": str(c["value"]), "de": c.get("de", ""), "en": c.get("en", "")}
                )
            else:
                de, _sep, en = str(c).partition("|")
                parsed.append({"value": de.strip()[:60], "de": de.strip(), "en": en.strip()})
        if qtype in CHOICE_TYPES and len(parsed) < 2:
            errors.append(_("Question %(n)d: give at least two choices.") % {"n": i})
            continue
        if len({c["value"] for c in parsed}) != len(parsed):
            errors.append(_("Question %(n)d: choices must differ.") % {"n": i})
            continue
        clean.append(
            {
                "type": qtype,
                "text_de": (text_de or text_en)[:300],
                "text_en": (text_en or text_de)[:300],
                "choices": parsed if qtype in CHOICE_TYPES else [],
                "optional": bool(raw.get("optional")),
            }
        )
    if errors:
        raise ApplicationError(" ".join(errors), field_errors={"questions": errors})
    return clean


def _version_fill(version: SurveyVersion, survey: Survey, questions: list[dict[str, Any]]) -> None:
    for name in VERSION_TEXT_FIELDS:
        setattr(version, name, getattr(survey, name))
    version.save()
    version.questions.all().delete()
    Question.objects.bulk_create(
        Question(version=version, order=i, **q) for i, q in enumerate(questions, start=1)
    )


def _draft(survey: Survey) -> SurveyVersion:
    """Return the survey's draft version, copying the published one when there is none."""
    draft = survey.versions.filter(published_at__isnull=True).order_by("-number").first()
    if draft is not None:
        return draft
    top = survey.versions.order_by("-number").first()
    draft = SurveyVersion(survey=survey, number=(top.number + 1) if top else 1)
    questions = (
        [
            {"type": q.type, "text_de": q.text_de, "text_en": q.text_en, "choices": q.choices,
             "optional": q.optional}
            for q in top.questions.all()
        ]
        if top
        else []
    )  # fmt: skip
    _version_fill(draft, survey, questions)
    return draft


@transaction.atomic
def survey_create(
    *,
    actor: User | None,
    name: str,
    title_de: str,
    title_en: str = "",
    kind: str = Survey.Kind.CSAT,
    intro_de: str = "",
    intro_en: str = "",
    thank_you_de: str = "Vielen Dank für Ihre Rückmeldung!",
    thank_you_en: str = "Thank you for your feedback!",
    follow_up_queue: Any = None,
    questions: Iterable[Mapping[str, Any]] = (),
    publish: bool = False,
    now: datetime | None = None,
) -> Survey:
    """Create a survey with a draft version holding ``questions``; optionally publish it."""
    now = now or timezone.now()
    if Survey.objects.filter(name=name.strip()).exists():
        raise ApplicationError(
            _("A survey with this name exists."), field_errors={"name": [_("Name taken.")]}
        )
    survey = Survey(
        name=name.strip(), kind=kind, title_de=title_de.strip(),
        title_en=(title_en or title_de).strip(), intro_de=intro_de, intro_en=intro_en,
        thank_you_de=thank_you_de, thank_you_en=thank_you_en or thank_you_de,
        follow_up_queue=follow_up_queue, created_by=acting_user(actor), created_at=now,
    )  # fmt: skip
    validated(survey, exclude=["current_version"])
    clean = _questions_clean(questions)
    survey.save()
    _version_fill(SurveyVersion(survey=survey, number=1), survey, clean)
    audit_record(actor=actor, action="create", obj=survey, changes={"questions": len(clean)})
    if publish:
        survey_publish(actor=actor, survey=survey, now=now)
    return survey


@transaction.atomic
def survey_update(
    *,
    actor: User | None,
    survey: Survey,
    data: Mapping[str, Any],
    questions: Iterable[Mapping[str, Any]] | None = None,
) -> SurveyVersion:
    """Change texts/settings and (optionally) replace the questions of the draft.

    Published versions are never touched: the changes go to the draft, which
    becomes visible to customers only after ``survey_publish``.
    """
    locked = Survey.objects.select_for_update().get(pk=survey.pk)
    unknown = set(data) - set(SURVEY_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown field(s): %(f)s") % {"f": ", ".join(sorted(unknown))},
            field_errors={f: [_("Unknown field.")] for f in unknown},
        )
    for name, value in data.items():
        setattr(locked, name, value)
    validated(locked, exclude=["current_version"])
    locked.save()
    draft = _draft(locked)
    clean = (
        _questions_clean(questions)
        if questions is not None
        else [
            {"type": q.type, "text_de": q.text_de, "text_en": q.text_en, "choices": q.choices,
             "optional": q.optional}
            for q in draft.questions.all()
        ]
    )  # fmt: skip
    _version_fill(draft, locked, clean)
    audit_record(actor=actor, action="update", obj=locked, changes={"fields": sorted(data)})
    return draft


@transaction.atomic
def survey_publish(
    *, actor: User | None, survey: Survey, now: datetime | None = None
) -> SurveyVersion:
    """Freeze the draft as the version new invitations use; answers keep their version."""
    now = now or timezone.now()
    locked = Survey.objects.select_for_update().get(pk=survey.pk)
    draft = locked.versions.filter(published_at__isnull=True).order_by("-number").first()
    if draft is None:
        raise ApplicationError(_("There are no unpublished changes."), code="no_draft")
    if not draft.questions.exists():
        raise ApplicationError(
            _("A survey needs at least one question."),
            code="no_questions",
            field_errors={"questions": [_("Add a question.")]},
        )
    draft.published_at = now
    draft.save(update_fields=["published_at"])
    locked.current_version = draft
    locked.save(update_fields=["current_version"])
    survey.current_version = draft
    audit_record(actor=actor, action="publish", obj=locked, changes={"version": draft.number})
    return draft


@transaction.atomic
def trigger_create(
    *,
    actor: User | None,
    survey: Survey,
    event: str,
    delay_days: int = 0,
    period_days: int = 180,
    phase: str = "",
    min_gap_days: int = 30,
    expiry_days: int = 14,
) -> Trigger:
    """Add a trigger to a survey (evaluated by ``stammkunde feedback run-triggers``)."""
    trigger = Trigger(
        survey=survey, event=event, delay_days=delay_days, period_days=period_days,
        phase=phase, min_gap_days=min_gap_days, expiry_days=expiry_days,
    )  # fmt: skip
    validated(trigger)
    if event == Trigger.Event.PHASE and not phase:
        raise ApplicationError(
            _("Choose the lifecycle phase."), field_errors={"phase": [_("Required.")]}
        )
    if event == Trigger.Event.PERIODIC and period_days < 1:
        raise ApplicationError(_("The period must be at least one day."),
                               field_errors={"period_days": [_("At least 1.")]})  # fmt: skip
    if expiry_days < 1:
        raise ApplicationError(_("A link must be valid for at least one day."),
                               field_errors={"expiry_days": [_("At least 1.")]})  # fmt: skip
    trigger.save()
    audit_record(actor=actor, action="create", obj=trigger, changes={"event": event})
    return trigger


@transaction.atomic
def trigger_set_active(*, actor: User | None, trigger: Trigger, active: bool) -> Trigger:
    """Switch a trigger on or off."""
    Trigger.objects.filter(pk=trigger.pk).update(active=active)
    trigger.active = active
    audit_record(actor=actor, action="update", obj=trigger, changes={"active": active})
    return trigger
