from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ServicePartner(models.Model):
    """An outsourced service provider whose agents handle some queues."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    price_per_ticket = models.DecimalField(
        _("price per ticket (EUR)"), max_digits=10, decimal_places=2, default=0
    )
    price_per_minute = models.DecimalField(
        _("price per minute (EUR)"), max_digits=10, decimal_places=4, default=0
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("service partner")
        verbose_name_plural = _("service partners")

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """What Stammkunde knows about a user beyond Django's auth user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    partner = models.ForeignKey(
        ServicePartner, null=True, blank=True, on_delete=models.PROTECT, related_name="agents"
    )
    goodwill_limit = models.DecimalField(
        _("goodwill limit (EUR)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty: the limit of the user's role applies."),
    )

    def __str__(self) -> str:
        return f"profile of {self.user}"


class AuditEntry(models.Model):
    """Who did what to which object, and which fields changed (append-only)."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("deleted")
        VIEW = "view", _("viewed")
        EXPORT = "export", _("exported")
        MERGE = "merge", _("merged")
        ERASE = "erase", _("erased")

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type}"


class Counter(models.Model):
    """A named gap-free counter for human-readable numbers (customers, tickets)."""

    name = models.CharField(max_length=50, unique=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class CacheEntry(models.Model):
    """A row of the shared database cache (rate limits of the embedded set-up).

    The columns are those Django's ``DatabaseCache`` reads; as a model the table
    is made by ``migrate`` and emptied with the others when tests flush.
    """

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "stammkunde_cache"

    def __str__(self) -> str:
        return self.cache_key
