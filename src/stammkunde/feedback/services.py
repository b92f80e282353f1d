"""Every write of the feedback app: surveys, triggers, invitations, answers, closing the loop.

Rules that live here and nowhere else:

* Answers are tied to the frozen ``SurveyVersion`` they answered; publishing
  freezes the draft, later edits start a new draft.
* No invitation without the latest consent purpose "feedback" on email, to an
  address marked undeliverable, or within the minimum gap after the
  customer's last invitation to *any* survey.
* One response per invitation (database constraint); a second submit returns
  the stored response and stores nothing.
* A detractor (NPS 0–6) or a CSAT of 1–2 opens a follow-up ticket (priority
  high, so the SLA policy for high priority applies) for the responsible team.
* Mail goes out only after commit (``transaction.on_commit``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ApplicationError, validated
from stammkunde.customers.models import Channel, Consent, Customer, EmailAddress, Interaction
from stammkunde.customers.selectors import consent_granted, consented_customer_ids
from stammkunde.customers.services import interaction_record

from .models import (
    CHOICE_TYPES,
    SCALE_RANGES,
    Answer,
    Invitation,
    Question,
    QuestionType,
    Response,
    Survey,
    SurveyVersion,
    Trigger,
)
from .sentiment import sentiment_score
from .tokens import survey_url

log = logging.getLogger(__name__)

DETRACTOR_NPS_MAX = 6
PROMOTER_NPS_MIN = 9
UNHAPPY_CSAT_MAX = 2
# How far back a trigger run looks for solved tickets and orders it has not handled yet.
TRIGGER_LOOKBACK = timedelta(days=14)
SURVEY_FIELDS = (
    "name", "kind", "title_de", "title_en", "intro_de", "intro_en", "thank_you_de",
    "thank_you_en", "active", "follow_up_queue",
)  # fmt: skip
VERSION_TEXT_FIELDS = (
    "title_de", "title_en", "intro_de", "intro_en", "thank_you_de", "thank_you_en",
)  # fmt: skip


class InvitationSuppressed(ApplicationError):
    """A rule forbids inviting this customer now; ``code`` says which one."""


# --------------------------------------------------------------------- surveys


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


# ----------------------------------------------------------------- invitations


def _deliverable_email(customer: Customer) -> str:
    emails = list(EmailAddress.objects.filter(customer=customer).order_by("-is_primary", "id"))
    if not emails:
        raise InvitationSuppressed(_("The customer has no email address."), code="no_email")
    usable = [e for e in emails if e.undeliverable_at is None]
    if not usable:
        raise InvitationSuppressed(
            _("The customer's email address bounced (undeliverable)."), code="undeliverable"
        )
    return usable[0].address


def _phase_of(customer_id: int) -> str:
    """The customer's current lifecycle phase from analytics, when that app has scored."""
    try:
        score = apps.get_model("analytics", "CustomerScore")
    except LookupError:
        return ""
    row = score.objects.filter(customer_id=customer_id, is_latest=True).values_list(
        "phase", flat=True
    )
    return row.first() or ""


@transaction.atomic
def invitation_create(
    *,
    survey: Survey,
    customer: Customer,
    trigger: Trigger | None = None,
    source_ticket: Any = None,
    source_order: Any = None,
    dedupe_key: str | None = None,
    min_gap_days: int | None = None,
    expiry_days: int | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> Invitation:
    """Create a personal survey invitation by email, or raise InvitationSuppressed.

    Refused (``code``): ``not_published``, ``inactive``, ``no_email``,
    ``undeliverable`` (bounced), ``no_consent`` (latest consent "feedback" on
    email not granted), ``min_gap`` (invited to any survey within the gap),
    ``duplicate`` (this event was already surveyed).
    """
    now = now or timezone.now()
    gap = min_gap_days if min_gap_days is not None else (trigger.min_gap_days if trigger else 30)
    expiry = expiry_days if expiry_days is not None else (trigger.expiry_days if trigger else 14)
    version = survey.current_version
    if version is None:
        raise InvitationSuppressed(_("The survey is not published yet."), code="not_published")
    if not survey.active:
        raise InvitationSuppressed(_("The survey is not active."), code="inactive")
    # Serialise invitations per customer so that two runs cannot both pass the gap check.
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.erased_at is not None or customer.merged_into_id is not None:
        raise InvitationSuppressed(_("The customer cannot be contacted."), code="no_email")
    address = _deliverable_email(customer)
    if not consent_granted(
        customer_id=customer.pk, purpose=Consent.Purpose.FEEDBACK, channel=Channel.EMAIL
    ):
        raise InvitationSuppressed(
            _("The customer has not consented to feedback requests by email."), code="no_consent"
        )
    if (
        dedupe_key
        and Invitation.objects.filter(version__survey=survey, dedupe_key=dedupe_key).exists()
    ):
        raise InvitationSuppressed(_("This was already surveyed."), code="duplicate")
    if (
        gap
        and Invitation.objects.filter(
            customer=customer, created_at__gt=now - timedelta(days=gap)
        ).exists()
    ):
        raise InvitationSuppressed(
            _("The customer was invited to a survey less than %(d)d days ago.") % {"d": gap},
            code="min_gap",
        )
    invitation = Invitation.objects.create(
        customer=customer, version=version, trigger=trigger, key=secrets.token_urlsafe(24),
        dedupe_key=dedupe_key, language=customer.preferred_language or "de",
        channel=Channel.EMAIL, email=address, source_ticket=source_ticket,
        source_order=source_order, value_class=customer.value_class or "",
        phase=_phase_of(customer.pk), created_at=now, expires_at=now + timedelta(days=expiry),
    )  # fmt: skip
    audit_record(actor=actor, action="create", obj=invitation, customer_id=customer.pk)
    return invitation


def _mail(*, to: str, subject: str, body: str, on_sent: Any = None) -> None:
    """Send one mail after the surrounding transaction committed.

    TODO(channels): hand this to the channels outbox (retries, Message-ID,
    bounce tracking) once it offers a generic enqueue function; see docs/feedback.md.
    """

    def _send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
        except Exception:  # noqa: BLE001 - a failed send leaves sent_at empty for the next run
            log.exception("feedback mail to %s failed", to)
            return
        if on_sent is not None:
            on_sent()

    transaction.on_commit(_send)


def invitation_mail(invitation: Invitation) -> tuple[str, str]:
    """Return subject and text of the invitation mail in the invitation's language."""
    version = invitation.version
    customer = invitation.customer
    with translation.override(invitation.language):
        subject = version.text("title", invitation.language)
        body = _(
            "Hello %(name)s,\n\nplease tell us how we did. It takes about a minute:\n\n"
            "%(url)s\n\nThe link is personal and valid until %(until)s.\n\n"
            "Thank you!\n"
        ) % {
            "name": customer.display_name,
            "url": survey_url(invitation.key),
            "until": invitation.expires_at.strftime("%d.%m.%Y"),
        }
    return subject, body


def invitation_send(*, invitation: Invitation, now: datetime | None = None) -> Invitation:
    """Email the personal link (after commit); ``sent_at`` is set once the mail went out."""
    if invitation.answered_at is not None:
        raise ApplicationError(_("The invitation was answered already."), code="answered")
    subject, body = invitation_mail(invitation)
    sent_at = now or timezone.now()
    pk = invitation.pk

    def _mark() -> None:
        Invitation.objects.filter(pk=pk, sent_at__isnull=True).update(sent_at=sent_at)

    with transaction.atomic():
        _mail(to=invitation.email, subject=subject, body=body, on_sent=_mark)
        interaction_record(
            customer=invitation.customer, occurred_at=sent_at, channel=Channel.EMAIL,
            direction=Interaction.Direction.OUTBOUND, kind="survey_invitation",
            summary=_("Survey invitation: %(s)s") % {"s": invitation.version.survey.name},
            source=invitation,
        )  # fmt: skip
    return invitation


# ------------------------------------------------------------------- responses


@dataclass(frozen=True)
class SubmitResult:
    response: Response
    created: bool


def _field(question: Question) -> str:
    return f"q{question.pk}"


def _parse_answers(
    questions: list[Question], answers: Mapping[str, Any]
) -> tuple[list[Answer], dict[str, list[str]]]:
    """Turn raw answers (keyed ``q<id>`` or ``<id>``) into unsaved Answers, or field errors."""
    errors: dict[str, list[str]] = {}
    parsed: list[Answer] = []
    known = {_field(q) for q in questions} | {str(q.pk) for q in questions}
    for key in answers:
        if str(key) not in known:
            errors[str(key)] = [_("Unknown question.")]
    for q in questions:
        raw = answers.get(_field(q), answers.get(str(q.pk), answers.get(q.pk)))  # type: ignore[call-overload]
        empty = raw is None or raw == "" or raw == []
        if empty:
            if not q.optional:
                errors[_field(q)] = [_("Please answer this question.")]
            continue
        answer = Answer(question=q)
        if q.type in SCALE_RANGES:
            lo, hi = SCALE_RANGES[q.type]
            try:
                if isinstance(raw, bool):  # JSON true is not a score
                    raise ValueError
                value = int(str(raw).strip())
                if str(value) != str(raw).strip() and not isinstance(raw, int):
                    raise ValueError
            except (TypeError, ValueError):
                errors[_field(q)] = [_("Enter a whole number.")]
                continue
            if not lo <= value <= hi:
                errors[_field(q)] = [
                    _("Choose a value from %(lo)d to %(hi)d.") % {"lo": lo, "hi": hi}
                ]
                continue
            answer.value = value
        elif q.type in CHOICE_TYPES:
            values = raw if isinstance(raw, (list, tuple)) else [raw]
            values = [str(v) for v in values]
            allowed = {c["value"] for c in q.choices}
            if not set(values) <= allowed or (q.type == QuestionType.SINGLE and len(values) != 1):
                errors[_field(q)] = [_("Choose one of the offered answers.")]
                continue
            answer.choices = values
        else:
            text = str(raw).strip()
            if len(text) > 5000:
                errors[_field(q)] = [_("At most 5000 characters.")]
                continue
            answer.text = text
            answer.sentiment = sentiment_score(text)
        parsed.append(answer)
    return parsed, errors


def _first(answers: list[Answer], qtype: str) -> int | None:
    return next((a.value for a in answers if a.question.type == qtype), None)


@transaction.atomic
def response_submit(
    *,
    answers: Mapping[str, Any],
    invitation: Invitation | None = None,
    version: SurveyVersion | None = None,
    customer: Customer | None = None,
    source: str = Response.Source.LINK,
    channel: str | None = None,
    language: str | None = None,
    idempotency_key: str | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Store the answers of one survey and close the loop; idempotent.

    With an invitation: refused when expired; a second submit returns the
    first response (``created=False``) and stores nothing. Without one (API,
    phone), ``idempotency_key`` makes retries safe. Out-of-range or missing
    required answers raise ApplicationError with one field error per question
    (``q<id>``).
    """
    now = now or timezone.now()
    if invitation is not None:
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("version__survey", "customer")
            .get(pk=invitation.pk)
        )
        existing = Response.objects.filter(invitation=invitation).first()
        if existing is not None:
            return SubmitResult(existing, False)
        if invitation.expires_at <= now:
            raise ApplicationError(_("This survey link has expired."), code="expired")
        version, customer = invitation.version, invitation.customer
        channel = channel or invitation.channel
        language = language or invitation.language
    elif idempotency_key:
        existing = Response.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return SubmitResult(existing, False)
    if version is None:
        raise ApplicationError(_("Which survey?"), field_errors={"survey": [_("Required.")]})
    if version.published_at is None:
        raise ApplicationError(_("The survey is not published."), code="not_published")
    questions = list(version.questions.all())
    parsed, errors = _parse_answers(questions, answers)
    if errors:
        raise ApplicationError(_("Some answers are missing or invalid."), field_errors=errors)
    if not parsed:
        raise ApplicationError(_("Please answer at least one question."), code="empty")
    sentiments = [a.sentiment for a in parsed if a.sentiment is not None and a.text]
    response = Response(
        invitation=invitation, version=version, customer=customer, source=source,
        channel=channel or (Channel.PHONE if source == Response.Source.AGENT else Channel.WEB),
        language=language or (customer.preferred_language if customer else "de"),
        idempotency_key=idempotency_key or None, entered_by=acting_user(actor),
        submitted_at=now, nps=_first(parsed, QuestionType.NPS),
        csat=_first(parsed, QuestionType.CSAT), ces=_first(parsed, QuestionType.CES),
        sentiment=sum(sentiments) / len(sentiments) if sentiments else None,
    )  # fmt: skip
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:
        # A concurrent submit won the race (the unique constraint); return its response.
        existing = Response.objects.filter(
            Q(invitation=invitation) if invitation else Q(idempotency_key=idempotency_key)
        ).first()
        if existing is None:
            raise
        return SubmitResult(existing, False)
    for a in parsed:
        a.response = response
    Answer.objects.bulk_create(parsed)
    if invitation is not None:
        Invitation.objects.filter(pk=invitation.pk).update(answered_at=now)
        invitation.answered_at = now
    _close_loop(response, parsed, actor=actor, now=now)
    return SubmitResult(response, True)


def _summary(response: Response, answers: list[Answer]) -> str:
    parts = []
    for a in answers:
        q = a.question
        if a.value is not None:
            parts.append(f"{q.text_en if response.language == 'en' else q.text_de}: {a.value}")
        elif a.choices:
            parts.append(f"{q.text_de}: {', '.join(a.choices)}")
        elif a.text:
            parts.append(f"{q.text_de}: {a.text}")
    return "\n".join(parts)


def is_unhappy(response: Response) -> bool:
    """A detractor (NPS 0–6) or a CSAT of 1–2: someone must call back."""
    return (response.nps is not None and response.nps <= DETRACTOR_NPS_MAX) or (
        response.csat is not None and response.csat <= UNHAPPY_CSAT_MAX
    )


def _close_loop(
    response: Response, answers: list[Answer], *, actor: User | None, now: datetime
) -> None:
    """Timeline entry; follow-up ticket for the unhappy; referral ask for promoters."""
    survey = response.version.survey
    scores = ", ".join(
        f"{label} {value}"
        for label, value in (("NPS", response.nps), ("CSAT", response.csat), ("CES", response.ces))
        if value is not None
    )
    if response.customer is not None:
        interaction_record(
            customer=response.customer, occurred_at=now,
            channel=response.channel if response.channel in Channel.values else Channel.WEB,
            direction=Interaction.Direction.INBOUND, kind="survey_response",
            summary=f"{survey.name}: {scores or _('answered')}", source=response, actor=actor,
        )  # fmt: skip
    if is_unhappy(response):
        ticket = follow_up_ticket_open(response, answers, scores=scores, now=now)
        if ticket is not None:
            Response.objects.filter(pk=response.pk).update(follow_up_ticket=ticket)
            response.follow_up_ticket = ticket
    elif response.nps is not None and response.nps >= PROMOTER_NPS_MIN:
        _referral_ask(response, now=now)


def follow_up_ticket_open(
    response: Response, answers: list[Answer], *, scores: str, now: datetime
) -> Any:
    """Open a follow-up ticket (priority high → its own SLA policy) for the responsible team.

    The team is the survey's follow-up queue, else the queue and agent of the
    surveyed ticket, else the first queue. Without any queue nothing is opened.
    """
    from stammkunde.service.models import Priority, Queue, Ticket
    from stammkunde.service.services import TicketLinks, ticket_create

    if response.customer is None:
        return None
    survey = response.version.survey
    invitation = response.invitation
    source = invitation.source_ticket if invitation is not None else None
    queue = survey.follow_up_queue or (source.queue if source is not None else None)
    queue = queue or Queue.objects.order_by("id").first()
    if queue is None:
        log.warning("no queue for the follow-up of response %s", response.pk)
        return None
    order = invitation.source_order if invitation is not None else None
    body = _("The customer answered survey %(survey)s with %(scores)s.") % {
        "survey": survey.name,
        "scores": scores,
    }
    return ticket_create(
        actor=None,
        subject=_("Feedback follow-up: %(scores)s (%(survey)s)") % {
            "scores": scores, "survey": survey.name},
        body=f"{body}\n\n{_summary(response, answers)}",
        queue=queue, customer=response.customer, type=Ticket.Type.COMPLAINT,
        category=source.category if source is not None else None,
        channel=Channel.WEB, priority=Priority.HIGH,
        team=queue.team if survey.follow_up_queue else (source.team if source else queue.team),
        assignee=source.assignee if source is not None and not survey.follow_up_queue else None,
        links=TicketLinks(order=order or (source.order if source else None),
                          product=source.product if source else None),
        from_customer=False, follow_up_of=source, now=now,  # our summary, not their words
    )  # fmt: skip


def referral_code_for(customer_id: int | None) -> str:
    """The customer's loyalty referral code, when the loyalty app is installed and they joined."""
    if customer_id is None:
        return ""
    try:
        account = apps.get_model("loyalty", "LoyaltyAccount")
    except LookupError:
        return ""
    code = account.objects.filter(customer_id=customer_id).values_list("referral_code", flat=True)
    return code.first() or ""


def _referral_ask(response: Response, *, now: datetime) -> None:
    """Ask a promoter to recommend us (a mail only with marketing consent; always on the page)."""
    customer = response.customer
    if customer is None:
        return
    code = referral_code_for(customer.pk)
    interaction_record(
        customer=customer, occurred_at=now, channel=Channel.EMAIL,
        direction=Interaction.Direction.INTERNAL, kind="referral_ask",
        summary=_("Promoter: asked for a referral") + (f" ({code})" if code else ""),
        source=response,
    )  # fmt: skip
    if not consent_granted(
        customer_id=customer.pk, purpose=Consent.Purpose.MARKETING, channel=Channel.EMAIL
    ):
        return
    try:
        address = _deliverable_email(customer)
    except InvitationSuppressed:
        return
    with translation.override(response.language):
        subject = _("Thank you for recommending us")
        body = _(
            "Hello %(name)s,\n\nthank you for your great rating! If you recommend us to "
            "friends, they and you get a welcome bonus."
        ) % {"name": customer.display_name}
        if code:
            body += "\n\n" + _("Your personal referral code: %(code)s") % {"code": code}
    _mail(to=address, subject=subject, body=body)


# -------------------------------------------------------------------- triggers


def _candidates(trigger: Trigger, now: datetime) -> Iterable[dict[str, Any]]:
    """Yield invitation arguments for the customers a trigger selects at ``now``."""
    due = now - timedelta(days=trigger.delay_days)
    if trigger.event == Trigger.Event.TICKET_SOLVED:
        ticket = apps.get_model("service", "Ticket")
        tickets = ticket.objects.filter(
            customer__isnull=False, solved_at__isnull=False,
            solved_at__lte=due, solved_at__gt=due - TRIGGER_LOOKBACK,
        ).exclude(feedback_invitations__version__survey=trigger.survey)  # fmt: skip
        for t in tickets.select_related("customer").order_by("solved_at"):
            yield {"customer": t.customer, "source_ticket": t, "dedupe_key": f"ticket:{t.pk}"}
    elif trigger.event == Trigger.Event.ORDER:
        order = apps.get_model("commerce", "Order")
        orders = order.objects.filter(ordered_at__lte=due, ordered_at__gt=due - TRIGGER_LOOKBACK)
        orders = orders.exclude(feedback_invitations__version__survey=trigger.survey)
        for o in orders.select_related("customer").order_by("ordered_at"):
            yield {"customer": o.customer, "source_order": o, "dedupe_key": f"order:{o.pk}"}
    elif trigger.event == Trigger.Event.PERIODIC:
        period = max(trigger.period_days, 1)
        recent = Invitation.objects.filter(
            version__survey=trigger.survey, created_at__gt=now - timedelta(days=period)
        ).values("customer_id")
        customers = (
            Customer.objects.filter(
                id__in=consented_customer_ids(
                    purpose=Consent.Purpose.FEEDBACK, channel=Channel.EMAIL
                ),
                first_purchase_at__isnull=False, erased_at__isnull=True, merged_into__isnull=True,
            )
            .exclude(id__in=recent)
            .order_by("id")
        )  # fmt: skip
        index = int(now.timestamp() // 86400) // period
        for c in customers.iterator(chunk_size=2000):
            yield {"customer": c, "dedupe_key": f"periodic:{c.pk}:{index}"}
    elif trigger.event == Trigger.Event.PHASE:
        try:
            change = apps.get_model("analytics", "PhaseChange")
        except LookupError:
            return
        changes = change.objects.filter(
            to_phase=trigger.phase, changed_on__gt=(now - TRIGGER_LOOKBACK).date(),
            changed_on__lte=now.date(),
        ).select_related("customer")  # fmt: skip
        for pc in changes.order_by("changed_on", "id"):
            yield {"customer": pc.customer, "dedupe_key": f"phase:{pc.pk}"}  # type: ignore[attr-defined]  # model looked up at runtime


def triggers_run(*, now: datetime | None = None, limit: int | None = None) -> dict[str, int]:
    """Evaluate every active trigger: invite and mail the selected customers.

    Idempotent: each ticket, order, period and phase change is surveyed at most
    once per survey. Returns counts: ``sent`` and one per suppression reason.
    Each invitation is its own transaction, so a failure loses nothing else.
    """
    now = now or timezone.now()
    counts: dict[str, int] = {"sent": 0}
    triggers = Trigger.objects.filter(
        active=True, survey__active=True, survey__current_version__isnull=False
    ).select_related("survey__current_version")
    for trigger in triggers:
        for args in _candidates(trigger, now):
            if limit is not None and counts["sent"] >= limit:
                break
            try:
                with transaction.atomic():
                    invitation = invitation_create(
                        survey=trigger.survey, trigger=trigger, now=now, **args
                    )
                    invitation_send(invitation=invitation, now=now)
            except InvitationSuppressed as exc:
                counts[exc.code] = counts.get(exc.code, 0) + 1
                continue
            counts["sent"] += 1
        Trigger.objects.filter(pk=trigger.pk).update(last_run_at=now)
    return counts
