"""One row per run of a job: who or what started it, progress, outcome."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """A run of a registered job kind.

    ``lock_key`` is unique among queued and running jobs (a partial unique
    index), so the same work cannot run twice at once on any number of
    processes; the lock is this row, so it survives a crashed worker and is
    released by the watchdog when the row's heartbeat stops.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        NOT_SENT = "not_sent", _("not sent (job queue unreachable)")

    class Trigger(models.TextChoices):
        USER = "user", _("started by a user")
        SCHEDULE = "schedule", _("schedule")
        CLI = "cli", _("command line")
        SYSTEM = "system", _("system")
        RETRY = "retry", _("retry")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(_("kind"), max_length=100, db_index=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    trigger = models.CharField(
        _("started by"), max_length=10, choices=Trigger.choices, default=Trigger.SYSTEM
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    lock_key = models.CharField(max_length=200, blank=True, default="")
    worker = models.CharField(_("worker"), max_length=200, blank=True, default="")
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    progress_message = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(_("requested"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True, encoder=DjangoJSONEncoder)
    error = models.TextField(_("error"), blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        constraints = [
            models.UniqueConstraint(
                fields=["lock_key"],
                condition=Q(status__in=["queued", "running"]) & ~Q(lock_key=""),
                name="jobs_one_active_per_lock_key",
            )
        ]
        indexes = [
            models.Index(fields=["kind", "status", "finished_at"], name="jobs_kind_status"),
            models.Index(
                fields=["status"],
                condition=Q(acknowledged_at__isnull=True, status="failed"),
                name="jobs_failed_unacknowledged",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.NOT_SENT)

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        if self.finished_at is None:
            from django.utils import timezone

            return timezone.now() - self.started_at
        return self.finished_at - self.started_at

    @property
    def duration_seconds(self) -> float | None:
        duration = self.duration
        return None if duration is None else duration.total_seconds()

    @property
    def kind_label(self) -> str:
        from .selectors import kind_label

        return kind_label(self.kind)

    @property
    def result_items(self) -> list[tuple[str, object]] | None:
        return list(self.result.items()) if isinstance(self.result, dict) else None

    @property
    def fraction(self) -> float | None:
        """Share done in [0, 1], or None when the total is not known (yet)."""
        if self.status == self.Status.DONE:
            return 1.0
        if not self.progress_total:
            return None
        return min(1.0, self.progress_done / self.progress_total)
