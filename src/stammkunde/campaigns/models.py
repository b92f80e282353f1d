"""Campaigns: segments, campaigns and phase playbooks, the contact log, evaluations, DOI.

The numeric core (evaluation, uplift, arbitration) lives in ``numeric/`` and
knows nothing of these tables.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from stammkunde.core.access import M, User, VisibleQuerySet
from stammkunde.core.roles import ADMIN, ANALYST, MARKETING, TEAM_LEAD, has_role
from stammkunde.customers.models import Customer

#: Roles that may read campaigns (the model permissions decide who may change them).
CAMPAIGN_ROLES = (ADMIN, MARKETING, ANALYST, TEAM_LEAD)


class CampaignRolesQuerySet(VisibleQuerySet[M]):
    def visible_to(self, user: User) -> CampaignRolesQuerySet[M]:
        """Marketing, analysts, team leads and admins see campaigns; agents and partners do not."""
        return self.all() if has_role(user, *CAMPAIGN_ROLES) else self.none()


class SegmentQuerySet(CampaignRolesQuerySet["Segment"]):
    pass


class SegmentMemberQuerySet(CampaignRolesQuerySet["SegmentMember"]):
    pass


class QuietPeriodQuerySet(CampaignRolesQuerySet["QuietPeriod"]):
    pass


class CampaignQuerySet(CampaignRolesQuerySet["Campaign"]):
    pass


class CampaignRunQuerySet(CampaignRolesQuerySet["CampaignRun"]):
    pass


class CampaignContactQuerySet(CampaignRolesQuerySet["CampaignContact"]):
    pass


class CampaignEvaluationQuerySet(CampaignRolesQuerySet["CampaignEvaluation"]):
    pass


class DoiRequestQuerySet(CampaignRolesQuerySet["DoiRequest"]):
    pass


def _new_key() -> str:
    return secrets.token_hex(8)


class PhaseChoice(models.TextChoices):
    """Lifecycle phases as the analytics app names them (campaigns never import its ORM here)."""

    NEW = "new", _("new")
    ESTABLISHED = "established", _("established")
    CHURN_PRONE = "churn_prone", _("churn-prone")
    CHURNING = "churning", _("churning")
    LOST = "lost", _("lost")


class Segment(models.Model):
    """A named audience: JSON rules over customer data, evaluated live or frozen."""

    class Mode(models.TextChoices):
        DYNAMIC = "dynamic", _("dynamic (re-evaluated at every use)")
        FROZEN = "frozen", _("frozen (members fixed when frozen)")

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.DYNAMIC)
    frozen_at = models.DateTimeField(_("frozen"), null=True, blank=True)
    members = models.ManyToManyField(
        Customer, through="SegmentMember", related_name="+", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A customer fixed into a frozen segment."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    objects = SegmentMemberQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "customer"], name="one_membership"),
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}:{self.customer_id}"


class QuietPeriod(models.Model):
    """Days without any advertising (e.g. the weeks around Christmas)."""

    name = models.CharField(_("name"), max_length=100)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until (inclusive)"))

    objects = QuietPeriodQuerySet.as_manager()

    class Meta:
        ordering = ["starts_on"]
        verbose_name = _("quiet period")
        verbose_name_plural = _("quiet periods")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="quiet_period_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.starts_on}–{self.ends_on}"


class Campaign(models.Model):
    """A measure with an audience, an offer, a channel, a schedule or trigger and a budget.

    A *playbook* is a campaign with ``playbook_phase`` set: ready to switch on
    for every customer entering that lifecycle phase.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft (switched off)")
        ACTIVE = "active", _("active")
        PAUSED = "paused", _("paused")
        FINISHED = "finished", _("finished")

    class Offer(models.TextChoices):
        VOUCHER = "voucher", _("voucher")
        POINTS = "points", _("points bonus")
        FREE_SERVICE = "free_service", _("free service")
        INFORMATION = "information", _("information")

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        LETTER = "letter", _("letter")
        PHONE = "phone", _("phone (call task for an agent)")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("scheduled (whole audience once)")
        PHASE_CHANGE = "phase_change", _("phase change")
        RISK_CROSSING = "risk_crossing", _("churn risk crosses a threshold")
        BIRTHDAY = "birthday", _("birthday")
        AFTER_PURCHASE = "after_purchase", _("n days after a purchase")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    playbook_phase = models.CharField(
        _("playbook for phase"), max_length=20, choices=PhaseChoice.choices, blank=True
    )
    playbook_step = models.PositiveSmallIntegerField(_("playbook step"), default=1)
    segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("audience"),
        help_text=_("Empty: every customer the trigger selects."),
    )
    offer_kind = models.CharField(_("offer"), max_length=20, choices=Offer.choices)
    offer_value = models.DecimalField(
        _("voucher value (EUR)"), max_digits=10, decimal_places=2, default=Decimal("0")
    )
    offer_points = models.PositiveIntegerField(_("bonus points"), default=0)
    offer_text = models.CharField(_("offer text"), max_length=300, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    trigger = models.CharField(
        _("schedule or trigger"), max_length=20, choices=Trigger.choices, default=Trigger.SCHEDULE
    )
    trigger_phase = models.CharField(
        _("phase entered"), max_length=20, choices=PhaseChoice.choices, blank=True
    )
    trigger_days = models.PositiveIntegerField(_("days after purchase"), null=True, blank=True)
    scheduled_for = models.DateTimeField(_("send at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    is_advertising = models.BooleanField(
        _("advertising"),
        default=True,
        help_text=_("Advertising is withheld from customers with an open complaint."),
    )
    budget = models.DecimalField(
        _("budget (EUR)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    cost_per_contact = models.DecimalField(
        _("cost per contact (EUR)"), max_digits=8, decimal_places=2, default=Decimal("0.10")
    )
    offer_cost = models.DecimalField(
        _("expected offer cost per contact (EUR)"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
    )
    control_share = models.DecimalField(
        _("control group share"), max_digits=3, decimal_places=2, default=Decimal("0.10")
    )
    horizon_days = models.PositiveIntegerField(_("evaluation horizon (days)"), default=30)
    expected_uplift = models.FloatField(
        _("expected uplift"),
        default=0.02,
        help_text=_("Change of purchase probability assumed until an uplift model is fitted."),
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=100, help_text=_("Lower wins a tie between actions.")
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(
        _("text"),
        blank=True,
        help_text=_("Placeholders: {first_name}, {last_name}, {voucher_code}, {points}."),
    )
    # Salt of the stable treatment/control assignment (see numeric/assignment.py).
    assignment_key = models.CharField(max_length=32, default=_new_key, editable=False)
    # TLearnerUplift.params_dict() of the last evaluation (JSON, never pickled).
    uplift_model = models.JSONField(default=dict, blank=True)
    activated_at = models.DateTimeField(_("switched on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["playbook_phase", "playbook_step", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(
                condition=Q(control_share__gte=0) & Q(control_share__lt=1),
                name="control_share_below_one",
            ),
            models.CheckConstraint(
                condition=~Q(trigger="phase_change") | ~Q(trigger_phase=""),
                name="phase_trigger_has_phase",
            ),
            models.CheckConstraint(
                condition=~Q(trigger="after_purchase") | Q(trigger_days__isnull=False),
                name="purchase_trigger_has_days",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("campaigns:detail", args=[self.pk])

    @property
    def is_playbook(self) -> bool:
        return bool(self.playbook_phase)

    @property
    def expected_cost(self) -> Decimal:
        """Expected cost of one treated contact: channel cost plus offer cost."""
        return self.cost_per_contact + self.offer_cost


class CampaignRun(models.Model):
    """One send of a campaign (or one trigger pass): who was selected and why others were not."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField(_("started"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {"audience": n, "treatment": n, "control": n, "suppressed": {reason: n}}
    counts = models.JSONField(default=dict)

    objects = CampaignRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} of campaign {self.campaign_id}"


class CampaignContact(models.Model):
    """The contact log: one row per customer, campaign and occasion, treatment or control."""

    class Group(models.TextChoices):
        TREATMENT = "treatment", _("treatment")
        CONTROL = "control", _("control (held out)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        HELD_OUT = "held_out", _("held out (control)")
        CANCELLED = "cancelled", _("cancelled before sending")
        FAILED = "failed", _("failed")
        BOUNCED = "bounced", _("bounced")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="contacts")
    run = models.ForeignKey(
        CampaignRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    # Trigger occasions ("" for a scheduled send, "event:12", "birthday:2026", "order:7").
    occasion = models.CharField(max_length=40, blank=True, default="")
    group = models.CharField(_("group"), max_length=10, choices=Group.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Campaign.Channel.choices)
    contacted_at = models.DateTimeField(_("contact date"), db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    email_to = models.EmailField(blank=True)
    cost = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    voucher_code = models.CharField(max_length=32, blank=True)
    ticket_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    error = models.CharField(max_length=300, blank=True)

    objects = CampaignContactQuerySet.as_manager()

    class Meta:
        ordering = ["-contacted_at", "-id"]
        verbose_name = _("campaign contact")
        verbose_name_plural = _("campaign contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer", "occasion"], name="one_contact_per_occasion"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-contacted_at"], name="contact_customer_time"),
            models.Index(fields=["status", "channel"], name="contact_status_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.customer_id} {self.group} {self.status}"


class CampaignEvaluation(models.Model):
    """Treatment versus control of one campaign as of one day (final after the horizon)."""

    class Recommendation(models.TextChoices):
        CONTINUE = "continue", _("continue")
        STOP = "stop", _("stop")
        TOO_EARLY = "too_early", _("too early")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="evaluations")
    computed_at = models.DateTimeField(_("computed"))
    as_of = models.DateField(_("as of"))
    is_final = models.BooleanField(_("final (horizon passed)"), default=False)
    recommendation = models.CharField(
        _("recommendation"), max_length=10, choices=Recommendation.choices
    )
    roi = models.FloatField(_("ROI"), null=True, blank=True)
    qini = models.FloatField(_("Qini coefficient"), null=True, blank=True)
    # CampaignEvaluator.summary() plus uplift figures and the cumulative curves.
    summary = models.JSONField(default=dict)
    curves = models.JSONField(default=dict)

    objects = CampaignEvaluationQuerySet.as_manager()

    class Meta:
        ordering = ["-computed_at", "-id"]
        verbose_name = _("campaign evaluation")
        verbose_name_plural = _("campaign evaluations")

    def __str__(self) -> str:
        return f"evaluation of {self.campaign_id} as of {self.as_of}"


class DoiRequest(models.Model):
    """A newsletter/marketing signup waiting for (or holding the proof of) its confirmation."""

    email = models.EmailField(_("email"), db_index=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    requested_at = models.DateTimeField(_("requested"))
    request_ip = models.GenericIPAddressField(null=True, blank=True)
    request_user_agent = models.CharField(max_length=300, blank=True)
    consent_text = models.TextField(_("consent text shown"))
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirm_ip = models.GenericIPAddressField(null=True, blank=True)
    confirm_user_agent = models.CharField(max_length=300, blank=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = DoiRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("double opt-in request")
        verbose_name_plural = _("double opt-in requests")

    def __str__(self) -> str:
        return f"{self.email} {'confirmed' if self.confirmed_at else 'pending'}"
