"""Django models of the analytics app: scoring runs, dated scores, phase history, events.

They live here and not in ``analytics.models`` because that package is the
Django-free numeric core; ``AnalyticsConfig.ready()`` imports this module.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from stammkunde.core.access import InternalOnlyQuerySet
from stammkunde.customers.models import Customer


class Phase(models.TextChoices):
    NEW = "new", _("new")
    ESTABLISHED = "established", _("established")
    CHURN_PRONE = "churn_prone", _("churn-prone")
    CHURNING = "churning", _("churning")
    LOST = "lost", _("lost")


# Scores are about the whole customer base: internal roles only.


class ModelRun(models.Model):
    """One scoring run: the fitted parameters (JSON, never pickled) and the model quality."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    as_of = models.DateField(_("scored as of"), db_index=True)
    model_version = models.CharField(_("model version"), max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    n_customers = models.PositiveIntegerField(default=0)
    n_transactions = models.PositiveIntegerField(default=0)
    # {"bgnbd": params_dict, "gamma_gamma": ..., "churn": ..., "class_cutoffs": ..., ...}
    params = models.JSONField(default=dict)
    # Held-out churn quality: auc, brier, top_decile_lift, reliability bins, n_holdout.
    metrics = models.JSONField(default=dict)
    auc = models.FloatField(null=True, blank=True)
    brier = models.FloatField(null=True, blank=True)
    top_decile_lift = models.FloatField(null=True, blank=True)
    timings = models.JSONField(default=dict)
    error = models.TextField(blank=True)

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")

    def __str__(self) -> str:
        return f"run {self.pk} as of {self.as_of}"


class CustomerScore(models.Model):
    """A customer's analytics as of one date; ``is_latest`` marks the current one."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="scores")
    run = models.ForeignKey(
        ModelRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="scores"
    )
    scored_at = models.DateField(_("scored as of"))
    model_version = models.CharField(_("model version"), max_length=20)
    frequency = models.PositiveIntegerField(_("repeat purchases"))
    recency_days = models.FloatField(_("days since last purchase"))
    T_days = models.FloatField(_("days since first purchase"))
    monetary = models.DecimalField(_("average order value"), max_digits=12, decimal_places=2)
    p_alive = models.FloatField(_("probability alive"))
    expected_purchases_90d = models.FloatField(_("expected purchases in 90 days"))
    clv_12m = models.DecimalField(_("CLV 12 months"), max_digits=12, decimal_places=2)
    value_class = models.CharField(
        _("value class"), max_length=1, choices=Customer.ValueClass.choices
    )
    rfm_segment = models.CharField(_("RFM segment"), max_length=30)
    churn_risk = models.FloatField(_("churn risk"))
    # [{"feature": ..., "de": ..., "en": ..., "contribution": ...}, ...], strongest first.
    reasons = models.JSONField(_("reasons"), default=list)
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices)
    unvoiced = models.BooleanField(_("unvoiced dissatisfaction"), default=False)
    unvoiced_evidence = models.JSONField(_("evidence"), default=list)
    is_latest = models.BooleanField(default=False)

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-scored_at", "-id"]
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        constraints = [
            models.UniqueConstraint(fields=["customer", "scored_at"], name="one_score_per_day"),
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_latest=True), name="one_latest_score"
            ),
            models.CheckConstraint(
                condition=Q(churn_risk__gte=0) & Q(churn_risk__lte=1),
                name="churn_risk_is_probability",
            ),
        ]
        indexes = [
            models.Index(fields=["is_latest", "phase"], name="score_latest_phase"),
            models.Index(fields=["is_latest", "churn_risk"], name="score_latest_risk"),
            models.Index(fields=["scored_at"], name="score_date"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.scored_at}: {self.phase} ({self.churn_risk:.2f})"


class PhaseChange(models.Model):
    """History of lifecycle phases: one row per change (the first scoring has from_phase "")."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phase_changes")
    run = models.ForeignKey(
        ModelRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="phase_changes"
    )
    changed_on = models.DateField(_("changed on"))
    from_phase = models.CharField(_("from"), max_length=20, choices=Phase.choices, blank=True)
    to_phase = models.CharField(_("to"), max_length=20, choices=Phase.choices)

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "changed_on"], name="one_phase_change_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.changed_on}: {self.from_phase or '-'} -> {self.to_phase}"


class AnalyticsEvent(models.Model):
    """Something campaigns and webhooks react to; ``consumed_at`` is theirs to set.

    Unique per (kind, customer, date): a re-run of the same day raises nothing twice.
    """

    class Kind(models.TextChoices):
        PHASE_CHANGE = "phase_change", _("phase change")
        RISK_CROSSED_THRESHOLD = "risk_crossed_threshold", _("churn risk crossed threshold")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="analytics_events"
    )
    run = models.ForeignKey(
        ModelRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    occurred_on = models.DateField(_("date"))
    created_at = models.DateTimeField(_("created"))
    # phase_change: {"from", "to"}; risk_crossed_threshold: {"from", "to", "threshold",
    # "direction": "up" | "down"}
    payload = models.JSONField(default=dict)
    consumed_at = models.DateTimeField(null=True, blank=True)

    objects = InternalOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "customer", "occurred_on"], name="one_event_per_kind_and_day"
            ),
        ]
        indexes = [models.Index(fields=["consumed_at", "kind"], name="event_unconsumed")]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id} {self.occurred_on}"
