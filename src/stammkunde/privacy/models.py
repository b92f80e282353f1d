"""Data subject requests (DSGVO Art. 12-22), their exports, and the retention periods."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from stammkunde.core.access import InternalOnlyQuerySet
from stammkunde.customers.models import Customer


class RequestQuerySet(InternalOnlyQuerySet["PrivacyRequest"]):
    pass


class PrivacyRequest(models.Model):
    """One request of a data subject, handled as a case with a legal deadline."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("access (Art. 15)")
        ERASURE = "erasure", _("erasure (Art. 17)")
        RECTIFICATION = "rectification", _("rectification (Art. 16)")
        OBJECTION = "objection", _("objection (Art. 21)")
        PORTABILITY = "portability", _("data portability (Art. 20)")

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        LETTER = "letter", _("letter")
        PHONE = "phone", _("phone")
        WEB = "web", _("web form")
        IN_PERSON = "in_person", _("in person")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        AWAITING_APPROVAL = "awaiting_approval", _("awaiting approval")
        DONE = "done", _("done")
        REJECTED = "rejected", _("rejected")

    number = models.CharField(_("request number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    channel = models.CharField(_("received by"), max_length=20, choices=Channel.choices)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="privacy_requests",
        verbose_name=_("customer"),
    )
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("due on"))
    extended_until = models.DateField(_("extended until"), null=True, blank=True)
    extension_reason = models.CharField(_("reason for the extension"), max_length=300, blank=True)
    identity_checked = models.BooleanField(_("identity checked"), default=False)
    identity_method = models.CharField(
        _("how the identity was checked"), max_length=200, blank=True
    )
    identity_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("handled by"),
    )
    erasure_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    # What the answer to the person lists: kept records (tax law), counts per app.
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RequestQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("data subject request")
        verbose_name_plural = _("data subject requests")

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    @property
    def deadline(self) -> object:
        """The date that counts: the extension if one was granted, else the month."""
        return self.extended_until or self.due_on

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.AWAITING_APPROVAL)


class ExportQuerySet(InternalOnlyQuerySet["PrivacyExport"]):
    pass


class PrivacyExport(models.Model):
    """One produced export (JSON + PDF) of a person's data; the files are access-limited."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        DELETED = "deleted", _("deleted")

    request = models.ForeignKey(
        PrivacyRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="exports"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=5, default="de")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    json_path = models.CharField(max_length=300, blank=True)
    pdf_path = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = ExportQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")

    def __str__(self) -> str:
        return f"export {self.pk} of customer {self.customer_id}"


class RetentionQuerySet(InternalOnlyQuerySet["RetentionPeriod"]):
    pass


class RetentionPeriod(models.Model):
    """How many days one kind of data is kept before the retention job removes it."""

    class Kind(models.TextChoices):
        RAW_MAIL = "raw_mail", _("raw inbound mail")
        QUARANTINE = "quarantine", _("quarantined mail")
        CLOSED_TICKETS = "closed_tickets", _("texts of closed tickets")
        SURVEY_TEXT = "survey_text", _("survey free texts")
        AUDIT = "audit", _("audit entries")
        PROSPECTS = "prospects", _("inactive prospects")
        EXPORTS = "exports", _("finished data exports")

    kind = models.CharField(_("kind of data"), max_length=20, choices=Kind.choices, unique=True)
    days = models.PositiveIntegerField(_("kept for (days)"))
    updated_at = models.DateTimeField(auto_now=True)

    objects = RetentionQuerySet.as_manager()

    class Meta:
        ordering = ["kind"]
        verbose_name = _("retention period")
        verbose_name_plural = _("retention periods")

    def __str__(self) -> str:
        return f"{self.kind}: {self.days} d"
