"""Audit events: every change to personal data leaves (who, when, what changed).

Called only from services, never from signals, so that the actor is known.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models

from .access import acting_user
from .models import AuditEntry


def _plain(value: Any) -> Any:
    """Return a JSON-safe form of a field value."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Return the current values of ``fields`` for a later ``diff``."""
    return {f: _plain(getattr(obj, f)) for f in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Return ``{field: [old, new]}`` for the fields that changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    obj: models.Model,
    customer_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry for ``obj``."""
    return AuditEntry.objects.create(
        actor=acting_user(actor),
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        customer_id=customer_id,
        changes=changes or {},
    )
