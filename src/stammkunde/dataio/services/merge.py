"""Merging two customer records into one: every related object moves, the merge is audited.

The relations are found generically through ``Customer._meta.related_objects``,
so orders, returns, subscriptions, consents, contact data, the timeline and
whatever other apps add later (tickets, loyalty accounts, ...) move without
this module knowing them. Where a unique constraint would be broken (both
customers have the same email address) the removed customer's copy is dropped
for contact data; for anything else the merge is refused with a clear error
unless the owning app registered a handler with ``merge_handler_register``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from stammkunde.core.access import User
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Channel, Customer, EmailAddress, Interaction, PhoneNumber
from stammkunde.customers.services import interaction_record

from ..models import DuplicatePair
from .webhooks import webhook_emit

# Rows that are pure copies when both customers have them: the removed one's copy goes.
_DROP_DUPLICATES: dict[type[models.Model], tuple[str, ...]] = {
    EmailAddress: ("address",),
    PhoneNumber: ("number",),
}
FILLED_FIELDS = ("salutation", "first_name", "last_name", "company_name", "birthday")

MergeHandler = Callable[[Customer, Customer], int]
_HANDLERS: dict[type[models.Model], MergeHandler] = {}


def merge_handler_register(model: type[models.Model], handler: MergeHandler) -> None:
    """Let an app move its own rows on a merge (e.g. add up two loyalty accounts).

    ``handler(keep, remove)`` runs inside the merge transaction and returns how
    many rows it moved or combined.
    """
    _HANDLERS[model] = handler


@dataclass
class Relation:
    label: str
    model: type[models.Model]
    field_name: str
    unique_with: list[tuple[str, ...]]  # other fields of unique constraints with the FK


@dataclass
class MergePreview:
    keep: Customer
    remove: Customer
    counts: dict[str, int] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    filled: dict[str, Any] = field(default_factory=dict)


def _relations() -> Iterator[Relation]:
    for rel in Customer._meta.related_objects:
        if rel.many_to_many:
            continue  # reverse many-to-many: handled through the through model below
        model = rel.related_model
        fk = rel.field
        unique: list[tuple[str, ...]] = []
        if rel.one_to_one or fk.unique:
            unique.append(())
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint) and fk.name in constraint.fields:
                unique.append(tuple(f for f in constraint.fields if f != fk.name))
        for together in model._meta.unique_together:
            if fk.name in together:
                unique.append(tuple(f for f in together if f != fk.name))
        yield Relation(f"{model._meta.label}.{fk.name}", model, fk.name, unique)
    for rel in Customer._meta.related_objects:
        through = getattr(rel, "through", None)
        if rel.many_to_many and through is not None:
            fk_name = next(
                f.name
                for f in through._meta.fields
                if isinstance(f, models.ForeignKey) and f.related_model is Customer
            )
            others = tuple(
                f.name
                for f in through._meta.fields
                if isinstance(f, models.ForeignKey) and f.name != fk_name
            )
            yield Relation(f"{through._meta.label}.{fk_name}", through, fk_name, [others])
    through = Customer.tags.through
    yield Relation("customers.Customer.tags", through, "customer", [("tag",)])


def _conflicts(rel: Relation, keep: Customer, remove: Customer) -> models.QuerySet[Any]:
    """Return the removed customer's rows that would break a unique constraint when moved."""
    manager = rel.model._base_manager
    condition = Q(pk__in=[])
    for others in rel.unique_with:
        if not others:
            if manager.filter(**{rel.field_name: keep}).exists():
                return manager.filter(**{rel.field_name: remove})
            continue
        kept = manager.filter(**{rel.field_name: keep}).values_list(*others)
        for values in kept:
            condition |= Q(**dict(zip(others, values, strict=True)))
    return manager.filter(**{rel.field_name: remove}).filter(condition)


def customer_merge_preview(*, keep: Customer, remove: Customer) -> MergePreview:
    """Return what a merge would move, refuse or fill in, without changing anything."""
    preview = MergePreview(keep=keep, remove=remove)
    for rel in _relations():
        if rel.model is Customer:
            continue
        count = rel.model._base_manager.filter(**{rel.field_name: remove}).count()
        if count:
            preview.counts[rel.label] = count
        if rel.model in _HANDLERS or rel.model in _DROP_DUPLICATES:
            continue
        if count and rel.unique_with and _conflicts(rel, keep, remove).exists():
            preview.conflicts.append(rel.label)
    for name in FILLED_FIELDS:
        if not getattr(keep, name) and getattr(remove, name):
            preview.filled[name] = getattr(remove, name)
    if not keep.external_id and remove.external_id:
        preview.filled["external_id"] = remove.external_id
    return preview


@dataclass
class MergeResult:
    keep: Customer
    moved: dict[str, int]


@transaction.atomic
def customer_merge(*, actor: User | None, keep: Customer, remove: Customer) -> MergeResult:
    """Merge ``remove`` into ``keep``: move every related object, mark ``remove`` as merged.

    Locks both customer rows (in id order). Raises ApplicationError when the
    two are the same, either was merged before, or a related row cannot move
    without breaking a unique constraint (code ``merge_conflict``).
    """
    if keep.pk == remove.pk:
        raise ApplicationError("A customer cannot be merged with itself.", code="merge_self")
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[keep.pk, remove.pk])
        .order_by("pk")
    }
    keep, remove = locked[keep.pk], locked[remove.pk]
    if keep.merged_into_id or remove.merged_into_id:
        raise ApplicationError("One of the customers was merged already.", code="merge_merged")
    preview = customer_merge_preview(keep=keep, remove=remove)
    if preview.conflicts:
        raise ApplicationError(
            "These records cannot be moved automatically: " + ", ".join(preview.conflicts),
            code="merge_conflict",
        )
    moved: dict[str, int] = {}
    for rel in _relations():
        manager = rel.model._base_manager
        rows = manager.filter(**{rel.field_name: remove})
        if rel.model in _HANDLERS:
            moved[rel.label] = _HANDLERS[rel.model](keep, remove)
            continue
        if rel.model in _DROP_DUPLICATES:
            others = _DROP_DUPLICATES[rel.model]
            kept = set(manager.filter(**{rel.field_name: keep}).values_list(*others, flat=True))
            rows.filter(**{f"{others[0]}__in": kept}).delete()
            rows.update(is_primary=False)
        elif rel.unique_with and rel.model is not Customer:
            # Many-to-many through rows (tags): drop what keep already has.
            _conflicts(rel, keep, remove).delete()
        count = rows.update(**{rel.field_name: keep})
        if count:
            moved[rel.label] = count
    for name, value in preview.filled.items():
        if name == "external_id":
            Customer.objects.filter(pk=remove.pk).update(external_id=None)
        setattr(keep, name, value)
    keep.created_at = min(keep.created_at, remove.created_at)
    purchases = [d for d in (keep.first_purchase_at, remove.first_purchase_at) if d]
    keep.first_purchase_at = min(purchases) if purchases else None
    keep.version += 1
    keep.save()
    remove.merged_into = keep
    remove.version += 1
    remove.save(update_fields=["merged_into", "version"])
    pair = (min(keep.pk, remove.pk), max(keep.pk, remove.pk))
    DuplicatePair.objects.filter(customer_a_id=pair[0], customer_b_id=pair[1]).update(
        status=DuplicatePair.Status.MERGED
    )
    DuplicatePair.objects.filter(
        Q(customer_a=remove) | Q(customer_b=remove), status=DuplicatePair.Status.OPEN
    ).delete()
    interaction_record(
        customer=keep,
        occurred_at=timezone.now(),
        channel=Channel.WEB,
        direction=Interaction.Direction.INTERNAL,
        kind="merge",
        text_key="customers.merged",
        text_params={"number": remove.number},
        source=remove,
        actor=actor,
    )
    changes = {
        "removed": remove.pk,
        "removed_number": remove.number,
        "moved": moved,
        "filled": {k: str(v) for k, v in preview.filled.items()},
    }
    audit_record(actor=actor, action="merge", obj=keep, customer_id=keep.pk, changes=changes)
    audit_record(
        actor=actor,
        action="merge",
        obj=remove,
        customer_id=remove.pk,
        changes={"merged_into": keep.pk, "merged_into_number": keep.number},
    )
    webhook_emit(
        event="customer.merged",
        payload={
            "keep": {"id": keep.pk, "number": keep.number, "external_id": keep.external_id},
            "removed": {"id": remove.pk, "number": remove.number},
            "moved": moved,
        },
    )
    return MergeResult(keep=keep, moved=moved)
