"""Segments: save (validated rules) and freeze the current matches as members."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from stammkunde.core.access import User, acting_user
from stammkunde.core.audit import audit_record, diff, snapshot
from stammkunde.core.db import bulk_insert
from stammkunde.core.errors import ApplicationError, validated

from ..models import (
    Segment,
    SegmentMember,
)
from ..segments import rules_validate


@transaction.atomic
def segment_save(
    *,
    actor: User | None,
    name: str,
    rules: dict[str, Any],
    mode: str = Segment.Mode.DYNAMIC,
    description: str = "",
    segment: Segment | None = None,
) -> Segment:
    """Create or change a segment; a frozen segment fixes its members now."""
    rules_validate(rules)
    if mode not in Segment.Mode.values:
        raise ApplicationError("Unknown mode.", field_errors={"mode": ["Unknown mode."]})
    creating = segment is None
    obj = segment or Segment(created_by=acting_user(actor))
    before = snapshot(obj, ["name", "rules", "mode"]) if not creating else {}
    obj.name, obj.rules, obj.mode, obj.description = name.strip(), rules, mode, description
    validated(obj, exclude=["members"])
    obj.save()
    if mode == Segment.Mode.FROZEN:
        segment_freeze(actor=actor, segment=obj)
    elif obj.frozen_at is not None:
        obj.memberships.all().delete()
        obj.frozen_at = None
        obj.save(update_fields=["frozen_at"])
    audit_record(
        actor=actor,
        action="create" if creating else "update",
        obj=obj,
        changes=diff(before, snapshot(obj, ["name", "rules", "mode"])),
    )
    return obj


@transaction.atomic
def segment_freeze(*, actor: User | None, segment: Segment) -> int:
    """Fix the segment's current matches as its members and return how many."""
    from ..segments import segment_queryset

    segment.memberships.all().delete()
    ids = list(segment_queryset(segment.rules).values_list("pk", flat=True))
    bulk_insert(SegmentMember, ["segment", "customer"], ((segment.pk, c) for c in ids))
    segment.frozen_at = timezone.now()
    segment.save(update_fields=["frozen_at"])
    return len(ids)
