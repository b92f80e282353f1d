"""Surveys (CSAT, NPS, CES), their frozen versions, triggers, invitations and answers.

A survey is edited as a *draft* version; publishing freezes the draft so that
every answer stays tied to the wording the customer saw. Invitations carry a
signed personal link (no login); one response per invitation is enforced by
the database.
"""

from __future__ import annotations

from typing import TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from stammkunde.core.access import InternalOnlyQuerySet
from stammkunde.customers.models import Channel, Customer


class QuestionType(models.TextChoices):
    CSAT = "csat", _("satisfaction (CSAT 1–5)")
    NPS = "nps", _("recommendation (NPS 0–10)")
    CES = "ces", _("effort (CES 1–7)")
    SINGLE = "single", _("single choice")
    MULTIPLE = "multiple", _("multiple choice")
    TEXT = "text", _("free text")


#: Inclusive ranges of the scale questions; the one place they are defined.
SCALE_RANGES: dict[str, tuple[int, int]] = {
    QuestionType.CSAT: (1, 5),
    QuestionType.NPS: (0, 10),
    QuestionType.CES: (1, 7),
}
CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTIPLE})


M = TypeVar("M", bound=models.Model)


# Surveys and answers are for internal staff; partners and strangers see nothing.


class SurveyQuerySet(InternalOnlyQuerySet["Survey"]):
    pass


class SurveyVersionQuerySet(InternalOnlyQuerySet["SurveyVersion"]):
    pass


class QuestionQuerySet(InternalOnlyQuerySet["Question"]):
    pass


class TriggerQuerySet(InternalOnlyQuerySet["Trigger"]):
    pass


class InvitationQuerySet(InternalOnlyQuerySet["Invitation"]):
    pass


class ResponseQuerySet(InternalOnlyQuerySet["Response"]):
    pass


class AnswerQuerySet(InternalOnlyQuerySet["Answer"]):
    pass


class Survey(models.Model):
    class Kind(models.TextChoices):
        CSAT = "csat", _("CSAT after a contact")
        NPS = "nps", _("relationship NPS")
        CES = "ces", _("customer effort")
        CUSTOM = "custom", _("custom")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CSAT)
    title_de = models.CharField(_("title (German)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    intro_de = models.TextField(_("introduction (German)"), blank=True)
    intro_en = models.TextField(_("introduction (English)"), blank=True)
    thank_you_de = models.TextField(_("thank-you text (German)"), default="Vielen Dank!")
    thank_you_en = models.TextField(_("thank-you text (English)"), default="Thank you!")
    active = models.BooleanField(_("active"), default=True)
    follow_up_queue = models.ForeignKey(
        "service.Queue",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("queue for follow-ups"),
        help_text=_("Detractor follow-ups go here; empty: the queue of the surveyed ticket."),
    )
    current_version = models.ForeignKey(
        "SurveyVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    objects = SurveyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")

    def __str__(self) -> str:
        return self.name


class SurveyVersion(models.Model):
    """The wording at one point in time; published versions never change."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title_de = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    intro_de = models.TextField(blank=True)
    intro_en = models.TextField(blank=True)
    thank_you_de = models.TextField()
    thank_you_en = models.TextField()
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    objects = SurveyVersionQuerySet.as_manager()

    class Meta:
        ordering = ["survey", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "number"], name="survey_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.survey} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.published_at is None

    def text(self, field: str, language: str) -> str:
        """Return ``field`` in ``language`` (German when English is missing)."""
        value = getattr(self, f"{field}_{'en' if language == 'en' else 'de'}", "")
        return value or getattr(self, f"{field}_de", "")


class Question(models.Model):
    version = models.ForeignKey(SurveyVersion, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(_("order"))
    type = models.CharField(_("type"), max_length=10, choices=QuestionType.choices)
    text_de = models.CharField(_("question (German)"), max_length=300)
    text_en = models.CharField(_("question (English)"), max_length=300)
    # [{"value": "price", "de": "Preis", "en": "Price"}, ...] for choice questions.
    choices = models.JSONField(_("choices"), default=list, blank=True)
    optional = models.BooleanField(_("optional"), default=False)

    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["version", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "order"], name="question_order_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.text_de}"

    def text(self, language: str) -> str:
        return (self.text_en if language == "en" else self.text_de) or self.text_de

    def choice_labels(self, language: str) -> list[tuple[str, str]]:
        key = "en" if language == "en" else "de"
        return [(c["value"], c.get(key) or c.get("de") or c["value"]) for c in self.choices]

    @property
    def scale(self) -> tuple[int, int] | None:
        return SCALE_RANGES.get(self.type)


class Trigger(models.Model):
    """When to invite a customer; evaluated by ``stammkunde feedback run-triggers``."""

    class Event(models.TextChoices):
        TICKET_SOLVED = "ticket_solved", _("after a ticket is solved")
        ORDER = "order", _("n days after an order")
        PERIODIC = "periodic", _("periodic relationship survey")
        PHASE = "phase", _("on entering a lifecycle phase")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="triggers")
    event = models.CharField(_("event"), max_length=20, choices=Event.choices)
    delay_days = models.PositiveSmallIntegerField(
        _("delay (days)"), default=0, help_text=_("Days after the ticket or order.")
    )
    period_days = models.PositiveSmallIntegerField(
        _("period (days)"), default=180, help_text=_("For periodic surveys.")
    )
    phase = models.CharField(
        _("lifecycle phase"), max_length=20, blank=True, help_text=_("For phase triggers.")
    )
    min_gap_days = models.PositiveSmallIntegerField(
        _("minimum gap per customer (days)"),
        default=30,
        help_text=_("No invitation if the customer was invited to any survey within this gap."),
    )
    expiry_days = models.PositiveSmallIntegerField(_("link valid (days)"), default=14)
    active = models.BooleanField(_("active"), default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    objects = TriggerQuerySet.as_manager()

    class Meta:
        ordering = ["survey", "id"]
        verbose_name = _("trigger")
        verbose_name_plural = _("triggers")

    def __str__(self) -> str:
        return f"{self.survey}: {self.get_event_display()}"


class Invitation(models.Model):
    """One personal survey link; the URL carries ``key`` signed with django.core.signing."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invitations")
    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="invitations")
    trigger = models.ForeignKey(
        Trigger, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    key = models.CharField(max_length=40, unique=True, editable=False)
    # Idempotency of trigger runs: "ticket:<id>", "order:<id>", "periodic:<n>", "phase:<id>".
    dedupe_key = models.CharField(max_length=80, null=True, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    email = models.EmailField(_("sent to"), blank=True)
    source_ticket = models.ForeignKey(
        "service.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback_invitations",
    )
    source_order = models.ForeignKey(
        "commerce.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback_invitations",
    )
    # Snapshots for the analysis (the customer's class and phase when invited).
    value_class = models.CharField(max_length=1, blank=True)
    phase = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(_("created"), db_index=True)
    expires_at = models.DateTimeField(_("expires"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [models.Index(fields=["customer", "-created_at"], name="invitation_customer")]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "dedupe_key"],
                condition=Q(dedupe_key__isnull=False),
                name="invitation_dedupe",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} → {self.customer_id}"


class Response(models.Model):
    """A submitted survey: by link, API (e.g. a POS tablet) or entered by an agent."""

    class Source(models.TextChoices):
        LINK = "link", _("personal link")
        API = "api", _("API / tablet")
        AGENT = "agent", _("entered by an agent")
        IMPORT = "import", _("import / demo")

    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.CASCADE, related_name="responses"
    )
    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="responses")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="survey_responses"
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=5, default="de")
    # For API clients that retry without an invitation.
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), db_index=True)
    # The first score of each kind, kept on the response for fast reports.
    nps = models.SmallIntegerField(null=True, blank=True)
    csat = models.SmallIntegerField(null=True, blank=True)
    ces = models.SmallIntegerField(null=True, blank=True)
    sentiment = models.FloatField(null=True, blank=True)
    follow_up_ticket = models.ForeignKey(
        "service.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        constraints = [
            models.UniqueConstraint(fields=["invitation"], name="one_response_per_invitation"),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__gte=0, nps__lte=10), name="response_nps"
            ),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5),
                name="response_csat",
            ),
            models.CheckConstraint(
                condition=Q(ces__isnull=True) | Q(ces__gte=1, ces__lte=7), name="response_ces"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.submitted_at:%Y-%m-%d}"


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.SmallIntegerField(null=True, blank=True)
    choices = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True)
    sentiment = models.FloatField(null=True, blank=True)

    objects = AnswerQuerySet.as_manager()

    class Meta:
        ordering = ["response", "question__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question"], name="one_answer_per_question"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value if self.value is not None else self.text[:40]}"
