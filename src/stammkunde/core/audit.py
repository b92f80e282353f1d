"""Audit events: every change to personal data leaves (who, when, what changed).

Called only from services, never from signals, so that the actor is known.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models

from .access import acting_user
from .models import AuditEntry

M = TypeVar("M", bound=models.Model)


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


def save_audited(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    existing: M | None,
    new: Callable[[], M],
    values: Mapping[str, Any],
    extra: Callable[[M], dict[str, list[Any]]] | None = None,
) -> M:
    """Create (``existing`` None: ``new()``) or update a settings-like row and audit it.

    ``values`` are set and saved; the audit entry lists the fields that changed (old,
    new), plus what ``extra`` reports after the save (e.g. a many-to-many set). An
    update that changed nothing writes no entry.
    """
    target = existing if existing is not None else new()
    fields = list(values)
    before = snapshot(target, fields) if existing is not None else {}
    for name, value in values.items():
        setattr(target, name, value)
    target.save()
    changes = diff(before, snapshot(target, fields))
    if extra is not None:
        changes.update(extra(target))
    if changes:
        action = "update" if existing is not None else "create"
        audit_record(actor=actor, action=action, obj=target, changes=changes)
    return target


def audit_customer_rows(customer_id: int) -> list[dict[str, Any]]:
    """Return the audit entries about one customer for their data export (Art. 15)."""
    from .personal import rows

    return rows(AuditEntry.objects.filter(customer_id=customer_id))


def audit_customer_scrub(customer_id: int) -> int:
    """Blank the details of every audit entry about an erased customer; keep who/when/what.

    The entries stay (accountability, Art. 5(2)); their ``changes`` held old and
    new values of personal data, which go.
    """
    return AuditEntry.objects.filter(customer_id=customer_id).update(changes={"erased": True})


# --- Audit of reads -----------------------------------------------------------------------
#
# A page or API answer that shows personal data calls ``audit_read(request, ids)``; the ids
# are collected on the request and ``ReadAuditMiddleware`` writes them in one bulk INSERT
# after the response is built, so a list of 50 customers costs one statement, not 50.

_READS = "_stammkunde_audit_reads"


def _base_request(request: Any) -> Any:
    """Return the Django request behind a DRF request (they share nothing else)."""
    return getattr(request, "_request", request)


def audit_read(request: Any, customer_ids: Iterable[int | None]) -> None:
    """Note that ``request.user`` was shown the personal data of these customers."""
    base = _base_request(request)
    pending: set[int] = base.__dict__.setdefault(_READS, set())
    pending.update(int(c) for c in customer_ids if c is not None)


def audit_reads_flush(request: Any) -> int:
    """Write the collected reads of ``request`` as one bulk insert; return how many."""
    base = _base_request(request)
    pending: set[int] | None = base.__dict__.pop(_READS, None)
    user = getattr(request, "user", None) or getattr(base, "user", None)
    if not pending or user is None or not user.is_authenticated:
        return 0
    return audit_reads_write(actor_id=user.pk, customer_ids=sorted(pending), where=base.path)


def audit_reads_write(
    *,
    actor_id: int | None,
    customer_ids: Iterable[int],
    where: str,
    action: str = AuditEntry.Action.VIEW,
) -> int:
    """Bulk-insert one read entry per customer (``where``: the page or the export file)."""
    changes = {"path": where[:200]}
    entries = [
        AuditEntry(
            actor_id=actor_id,
            action=action,
            object_type="customers.Customer",
            object_id=str(cid),
            customer_id=cid,
            changes=changes,
        )
        for cid in customer_ids
    ]
    if not entries:
        return 0
    from django.db import connection, transaction

    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A read entry is not worth a WAL flush on the hot path: commit asynchronously
            # (a crash may lose the last fraction of a second of read entries, nothing else).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        AuditEntry.objects.bulk_create(entries, batch_size=5000)
    return len(entries)


class ReadAuditMiddleware:
    """Write the reads a request collected (``audit_read``) once the response is ready."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        if _READS in request.__dict__ and 200 <= getattr(response, "status_code", 500) < 400:
            audit_reads_flush(request)
        return response


def audit_expire(*, before: Any, dry_run: bool) -> int:
    """Retention: delete audit entries written before ``before``; return how many."""
    qs = AuditEntry.objects.filter(at__lt=before)
    return qs.count() if dry_run else qs.delete()[0]


class ReadAuditMixin:
    """For DRF viewsets: every object serialised for output is noted by ``audit_read``.

    ``audit_customer_attr`` names the customer id on the objects ("pk" for
    customers, "customer_id" for tickets or orders). Input serializers
    (``data=``) are not reads and are skipped.
    """

    audit_customer_attr = "pk"

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if args and "data" not in kwargs:
            shown = args[0] if kwargs.get("many") else [args[0]]
            audit_read(
                self.request,  # type: ignore[attr-defined]
                [getattr(obj, self.audit_customer_attr, None) for obj in shown],
            )
        return super().get_serializer(*args, **kwargs)  # type: ignore[misc]


def audit_records_bulk(
    *,
    actor_id: int | None,
    at: Any,
    action: str,
    object_type: str,
    ids: Iterable[tuple[Any, int | None]],
    changes: dict[str, Any] | None = None,
) -> int:
    """Write one audit entry per (object id, customer id) in one set-based insert (imports)."""
    from .db import bulk_insert

    return bulk_insert(
        AuditEntry,
        ["at", "actor_id", "action", "object_type", "object_id", "customer_id", "changes"],
        ((at, actor_id, action, object_type, str(pk), cid, changes or {}) for pk, cid in ids),
    )


def audit_entries_of_customer(*, customer_id: int, limit: int = 50) -> list[AuditEntry]:
    """The newest audit entries about a customer, with their actors."""
    return list(AuditEntry.objects.filter(customer_id=customer_id).select_related("actor")[:limit])
