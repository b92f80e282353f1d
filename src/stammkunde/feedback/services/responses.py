"""Responses: parsing the answers, storing them once, and closing the loop."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.errors import ApplicationError
from stammkunde.customers.selectors import (
    Channel,
    ConsentPurpose,
    InteractionDirection,
    consent_granted,
)
from stammkunde.customers.services import interaction_record
from stammkunde.loyalty import selectors as loyalty_selectors
from stammkunde.service import selectors as service_selectors
from stammkunde.service.services import TicketLinks, ticket_create

if TYPE_CHECKING:
    from stammkunde.customers.models import Customer

from .. import timeline
from ..models import (
    CHOICE_TYPES,
    SCALE_RANGES,
    Answer,
    Invitation,
    Question,
    QuestionType,
    Response,
    SurveyVersion,
)
from ..sentiment import sentiment_score
from .invitations import InvitationSuppressed, _deliverable_email, _mail

log = logging.getLogger(__name__)


DETRACTOR_NPS_MAX = 6
PROMOTER_NPS_MIN = 9
UNHAPPY_CSAT_MAX = 2


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
            direction=InteractionDirection.INBOUND, kind="survey_response",
            text_key=timeline.RESPONSE if scores else timeline.RESPONSE_WITHOUT_SCORES,
            text_params={"survey": survey.name, "scores": scores}, source=response, actor=actor,
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
    if response.customer is None:
        return None
    survey = response.version.survey
    invitation = response.invitation
    source = invitation.source_ticket if invitation is not None else None
    queue = survey.follow_up_queue or (source.queue if source is not None else None)
    queue = queue or service_selectors.queue_first()
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
        queue=queue, customer=response.customer, type=service_selectors.TicketType.COMPLAINT,
        category=source.category if source is not None else None,
        channel=Channel.WEB, priority=service_selectors.TicketPriority.HIGH,
        team=queue.team if survey.follow_up_queue else (source.team if source else queue.team),
        assignee=source.assignee if source is not None and not survey.follow_up_queue else None,
        links=TicketLinks(order=order or (source.order if source else None),
                          product=source.product if source else None),
        from_customer=False, follow_up_of=source, now=now,  # our summary, not their words
    )  # fmt: skip


def referral_code_for(customer_id: int | None) -> str:
    """The customer's loyalty referral code, when they joined the loyalty program."""
    if customer_id is None:
        return ""
    return loyalty_selectors.referral_code_of(customer_id=customer_id)


def _referral_ask(response: Response, *, now: datetime) -> None:
    """Ask a promoter to recommend us (a mail only with marketing consent; always on the page)."""
    customer = response.customer
    if customer is None:
        return
    code = referral_code_for(customer.pk)
    interaction_record(
        customer=customer, occurred_at=now, channel=Channel.EMAIL,
        direction=InteractionDirection.INTERNAL, kind="referral_ask",
        text_key=timeline.REFERRAL_ASK_CODE if code else timeline.REFERRAL_ASK,
        text_params={"code": code} if code else {},
        source=response,
    )  # fmt: skip
    if not consent_granted(
        customer_id=customer.pk, purpose=ConsentPurpose.MARKETING, channel=Channel.EMAIL
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
    _mail(key=f"referral.{response.pk}", to=address, subject=subject, body=body)
