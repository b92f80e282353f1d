"""Service operations data: contact history, staffing targets, rosters, partner contracts.

The numbers (forecast, Erlang, gap, scorecard) live in the Django-free modules
next to this one; these models only hold what planners enter or import.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from stammkunde.core.access import User, VisibleQuerySet
from stammkunde.core.models import ServicePartner
from stammkunde.core.roles import ADMIN, ANALYST, TEAM_LEAD, has_role, partner_id_of

# Roles that plan the whole service operation and see every queue and partner.
PLANNER_ROLES = (ADMIN, TEAM_LEAD, ANALYST)
INTERVAL_CHOICES = [(15, "15"), (30, "30"), (60, "60")]


def is_planner(user: User) -> bool:
    """Return True for team leads, admins and analysts."""
    return has_role(user, *PLANNER_ROLES)


class Channel(models.TextChoices):
    """How contacts arrive; phone and chat queue (Erlang C), email and back office do not."""

    PHONE = "phone", _("phone")
    CHAT = "chat", _("chat")
    EMAIL = "email", _("email")
    BACKOFFICE = "backoffice", _("back office")


QUEUEING_CHANNELS = frozenset({Channel.PHONE, Channel.CHAT})


class PlannerOnlyQuerySet(VisibleQuerySet):
    def visible_to(self, user: User) -> PlannerOnlyQuerySet:
        """Planners see every row; everyone else none."""
        return self.all() if is_planner(user) else self.none()


class PartnerScopedQuerySet(VisibleQuerySet):
    def visible_to(self, user: User) -> PartnerScopedQuerySet:
        """Planners see every row; a partner agent only its own partner's rows."""
        if is_planner(user):
            return self.all()
        partner_id = partner_id_of(user)
        if partner_id is not None:
            return self.filter(partner_id=partner_id)
        return self.none()


class ContactVolume(models.Model):
    """Contacts and handling time of one queue, channel and interval — the forecast's history.

    Optionally with the quality counts of an ACD or ticket interval report
    (answered within the service level, resolved at first contact, reopened,
    CSAT sum and count), which feed the partner scorecards. ``partner`` is
    who handled the contacts; empty means the own team.
    """

    queue = models.CharField(_("queue"), max_length=100)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    interval_start = models.DateTimeField(_("interval start"))
    interval_minutes = models.PositiveSmallIntegerField(
        _("interval minutes"), choices=INTERVAL_CHOICES, default=15
    )
    contacts = models.PositiveIntegerField(_("contacts"))
    handled_seconds = models.PositiveBigIntegerField(_("handled seconds"), default=0)
    partner = models.ForeignKey(
        ServicePartner,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contact_volumes",
        verbose_name=_("handled by partner"),
    )
    answered_in_sl = models.PositiveIntegerField(
        _("answered within service level"), null=True, blank=True
    )
    resolved_first_contact = models.PositiveIntegerField(
        _("resolved at first contact"), null=True, blank=True
    )
    reopened = models.PositiveIntegerField(_("reopened"), null=True, blank=True)
    csat_sum = models.PositiveIntegerField(_("CSAT sum"), null=True, blank=True)
    csat_count = models.PositiveIntegerField(_("CSAT answers"), null=True, blank=True)

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["queue", "channel", "interval_start"]
        verbose_name = _("contact volume")
        verbose_name_plural = _("contact volumes")
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "channel", "interval_start"],
                condition=Q(partner__isnull=True),
                name="workforce_volume_unique_own",
            ),
            models.UniqueConstraint(
                fields=["queue", "channel", "interval_start", "partner"],
                condition=Q(partner__isnull=False),
                name="workforce_volume_unique_partner",
            ),
            models.CheckConstraint(
                condition=Q(interval_minutes__in=[15, 30, 60]), name="workforce_volume_interval"
            ),
        ]
        indexes = [models.Index(fields=["queue", "channel", "interval_start"])]

    def __str__(self) -> str:
        return f"{self.queue}/{self.channel} {self.interval_start:%Y-%m-%d %H:%M}: {self.contacts}"


class StaffingTarget(models.Model):
    """The planning rule of a queue and channel: X % within Y s, occupancy cap, shrinkage."""

    queue = models.CharField(_("queue"), max_length=100)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    target_sl = models.DecimalField(
        _("service level (share answered in time)"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.8"),
    )
    target_answer_s = models.PositiveIntegerField(_("answer within (seconds)"), default=20)
    max_occupancy = models.DecimalField(
        _("maximum occupancy"), max_digits=4, decimal_places=3, null=True, blank=True
    )
    shrinkage = models.DecimalField(
        _("shrinkage"), max_digits=4, decimal_places=3, default=Decimal("0.3")
    )
    aht_override_s = models.PositiveIntegerField(
        _("AHT override (seconds)"),
        null=True,
        blank=True,
        help_text=_("Empty: the handling time forecast from the history is used."),
    )

    objects = PlannerOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["queue", "channel"]
        verbose_name = _("staffing target")
        verbose_name_plural = _("staffing targets")
        constraints = [
            models.UniqueConstraint(fields=["queue", "channel"], name="workforce_target_unique"),
            models.CheckConstraint(
                condition=Q(target_sl__gt=0, target_sl__lt=1), name="workforce_target_sl_range"
            ),
            models.CheckConstraint(
                condition=Q(shrinkage__gte=0, shrinkage__lt=1), name="workforce_shrinkage_range"
            ),
            models.CheckConstraint(
                condition=Q(max_occupancy__isnull=True)
                | Q(max_occupancy__gt=0, max_occupancy__lte=1),
                name="workforce_occupancy_range",
            ),
            models.CheckConstraint(
                condition=Q(aht_override_s__isnull=True) | Q(aht_override_s__gt=0),
                name="workforce_aht_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.queue}/{self.channel}: {self.target_sl:.0%} in {self.target_answer_s} s"


class RosterEntry(models.Model):
    """Agents planned for one queue on one day from ``interval_start`` for ``interval_minutes``."""

    queue = models.CharField(_("queue"), max_length=100)
    date = models.DateField(_("date"))
    interval_start = models.TimeField(_("interval start"))
    interval_minutes = models.PositiveSmallIntegerField(
        _("interval minutes"), choices=INTERVAL_CHOICES, default=15
    )
    agents = models.PositiveIntegerField(_("planned agents"))

    objects = PlannerOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["queue", "date", "interval_start"]
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster entries")
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "date", "interval_start"], name="workforce_roster_unique"
            ),
            models.CheckConstraint(
                condition=Q(interval_minutes__in=[15, 30, 60]), name="workforce_roster_interval"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.queue} {self.date} {self.interval_start:%H:%M}: {self.agents}"


class PartnerContract(models.Model):
    """Prices and OLA targets of a service partner (or the cost rate of the own team).

    Without a partner the contract describes the own team named ``team_name``.
    An OLA target left empty is not part of the verdict.
    """

    partner = models.ForeignKey(
        ServicePartner,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
        verbose_name=_("service partner"),
    )
    team_name = models.CharField(
        _("own team"),
        max_length=100,
        blank=True,
        help_text=_("Only for the own team (no partner)."),
    )
    price_per_ticket = models.DecimalField(
        _("price per ticket (EUR)"), max_digits=10, decimal_places=2, default=0
    )
    price_per_minute = models.DecimalField(
        _("price per minute (EUR)"), max_digits=10, decimal_places=4, default=0
    )
    min_sla_attainment = models.DecimalField(
        _("OLA: minimum SLA attainment"), max_digits=4, decimal_places=3, null=True, blank=True
    )
    min_fcr_rate = models.DecimalField(
        _("OLA: minimum first-contact resolution"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
    )
    max_reopen_rate = models.DecimalField(
        _("OLA: maximum reopen rate"), max_digits=4, decimal_places=3, null=True, blank=True
    )
    min_csat = models.DecimalField(
        _("OLA: minimum CSAT (1–5)"), max_digits=3, decimal_places=2, null=True, blank=True
    )
    max_handling_minutes = models.DecimalField(
        _("OLA: maximum handling minutes"), max_digits=6, decimal_places=2, null=True, blank=True
    )

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        ordering = ["team_name", "partner__name"]
        verbose_name = _("partner contract")
        verbose_name_plural = _("partner contracts")
        constraints = [
            models.UniqueConstraint(
                fields=["partner"],
                condition=Q(partner__isnull=False),
                name="workforce_contract_one_per_partner",
            ),
            models.UniqueConstraint(
                fields=["team_name"],
                condition=Q(partner__isnull=True),
                name="workforce_contract_one_per_team",
            ),
            models.CheckConstraint(
                condition=Q(partner__isnull=False) | ~Q(team_name=""),
                name="workforce_contract_partner_or_team",
            ),
            models.CheckConstraint(
                condition=Q(price_per_ticket__gte=0, price_per_minute__gte=0),
                name="workforce_contract_prices",
            ),
        ]

    def __str__(self) -> str:
        return self.group_name

    @property
    def group_name(self) -> str:
        """The scorecard row name: the partner's name, or the own team's."""
        return self.partner.name if self.partner is not None else self.team_name
