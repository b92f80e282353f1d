"""Import sources and jobs, export jobs, duplicate candidates and outgoing webhooks."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from stammkunde.core.access import M, User, VisibleQuerySet
from stammkunde.core.roles import ADMIN, TEAM_LEAD, has_role, is_internal
from stammkunde.customers.models import Customer


class Kind(models.TextChoices):
    """What a file holds; one importer per kind."""

    CUSTOMERS = "customers", _("customers")
    PRODUCTS = "products", _("products")
    ORDERS = "orders", _("orders with lines")
    RETURNS = "returns", _("returns")
    SUBSCRIPTIONS = "subscriptions", _("subscriptions")


class DataToolsQuerySet(VisibleQuerySet[M]):
    def visible_to(self, user: User) -> DataToolsQuerySet[M]:
        """Admins and team leads see the data tools' records; everyone else nothing."""
        return self.all() if has_role(user, ADMIN, TEAM_LEAD) else self.none()


class ImportSourceQuerySet(DataToolsQuerySet["ImportSource"]):
    pass


class ImportJobQuerySet(DataToolsQuerySet["ImportJob"]):
    pass


class WebhookSubscriptionQuerySet(DataToolsQuerySet["WebhookSubscription"]):
    pass


class ImportSource(models.Model):
    """A system files come from (shop, POS, ERP) with its saved column mapping."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # {target field: column in the file}
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ImportSourceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "kind"]
        verbose_name = _("import source")
        verbose_name_plural = _("import sources")
        constraints = [
            models.UniqueConstraint(fields=["name", "kind"], name="unique_import_source"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class ImportJob(models.Model):
    """One run of an import (CLI or UI): what was asked, how far it is, what it did."""

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all-or-nothing", _("all or nothing")
        GOOD_ROWS = "good-rows", _("import the good rows, report the bad ones")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        ROLLED_BACK = "rolled_back", _("nothing imported (errors)")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    source = models.ForeignKey(
        ImportSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    file_name = models.CharField(_("file"), max_length=255)
    file_path = models.CharField(max_length=500)
    mapping = models.JSONField(default=dict, blank=True)
    mode = models.CharField(_("mode"), max_length=20, choices=Mode.choices)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    progress = models.FloatField(default=0.0)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_created = models.PositiveIntegerField(_("created"), default=0)
    rows_updated = models.PositiveIntegerField(_("updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rows_failed = models.PositiveIntegerField(_("failed rows"), default=0)
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    report_path = models.CharField(max_length=500, blank=True)
    # The language of its messages (errors, summary): the uploader's at creation;
    # blank (jobs from before) means LANGUAGE_CODE.
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")

    def __str__(self) -> str:
        return f"import {self.kind} {self.file_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.ROLLED_BACK, self.Status.FAILED}

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class ExportJobQuerySet(VisibleQuerySet["ExportJob"]):
    def visible_to(self, user: User) -> ExportJobQuerySet:
        """An export file is seen by the user who made it (admins see all)."""
        if has_role(user, ADMIN):
            return self.all()
        if not user.is_authenticated:
            return self.none()
        return self.filter(created_by_id=user.pk)


class ExportJob(models.Model):
    """One export of a filtered list; large ones are written in the background."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("list"), max_length=30)
    file_format = models.CharField(_("format"), max_length=4)
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rows = models.PositiveIntegerField(default=0)
    file_path = models.CharField(max_length=500, blank=True)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"export {self.kind}.{self.file_format} ({self.status})"


class DuplicatePairQuerySet(VisibleQuerySet["DuplicatePair"]):
    def visible_to(self, user: User) -> DuplicatePairQuerySet:
        """Duplicate candidates are for admins and team leads, who may merge."""
        return self.all() if has_role(user, ADMIN, TEAM_LEAD) else self.none()


class DuplicatePair(models.Model):
    """Two customers that are probably the same person, with a score and the reasons."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        DISMISSED = "dismissed", _("not a duplicate")
        MERGED = "merged", _("merged")

    # related_name "+": a merge moves every relation of a customer generically, not these.
    customer_a = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    customer_b = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("score"))
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField(auto_now_add=True)

    objects = DuplicatePairQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["customer_a", "customer_b"], name="unique_dup_pair"),
            models.CheckConstraint(
                condition=models.Q(customer_a__lt=models.F("customer_b")), name="dup_pair_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_a_id}~{self.customer_b_id} ({self.score:.2f})"


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookSubscription(models.Model):
    """A receiver URL for events; every request is signed with the subscription's secret."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    # Event names, or ["*"] for all events.
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("secret"), max_length=100, default=_new_secret)
    active = models.BooleanField(_("active"), default=True)
    # Only an admin sets it (e.g. a receiver in the own network): otherwise targets that
    # resolve to private, loopback or reserved addresses are refused (SSRF).
    allow_private_network = models.BooleanField(
        _("allow a private network address"),
        default=False,
        help_text=_("Deliver even if the host resolves to a private or loopback address."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WebhookSubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"


class WebhookDeliveryQuerySet(VisibleQuerySet["WebhookDelivery"]):
    def visible_to(self, user: User) -> WebhookDeliveryQuerySet:
        """The delivery log is for admins and team leads."""
        return self.all() if has_role(user, ADMIN, TEAM_LEAD) and is_internal(user) else self.none()


class WebhookDelivery(models.Model):
    """One event for one subscription: its payload and every attempt's outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(_("event"), max_length=50)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id} ({self.status})"
