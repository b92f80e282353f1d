"""The access predicate: one ``visible_to(user)`` filter per model.

Every read path (UI, API, exports, search, attachments, reports) starts from
``Model.objects.visible_to(user)``; ``access_object`` turns "missing" and
"forbidden" into the same 404 so that nothing leaks about objects a user may
not see.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404

M = TypeVar("M", bound=models.Model)
User = AbstractBaseUser | AnonymousUser


class VisibleQuerySet(models.QuerySet[M]):
    """A queryset whose subclasses define who may see which rows (deny by default)."""

    def visible_to(self, user: User) -> VisibleQuerySet[M]:
        """Return the rows ``user`` may see."""
        raise NotImplementedError


class InternalOnlyQuerySet(VisibleQuerySet[M]):
    """Rows about the whole customer base: internal roles see all, partners and others none."""

    def visible_to(self, user: User) -> InternalOnlyQuerySet[M]:
        from .roles import is_internal

        return self.all() if is_internal(user) else self.none()


def access_object(
    queryset: VisibleQuerySet[M], user: User, *, for_update: bool = False, **lookup: Any
) -> M:
    """Return the one visible object matching ``lookup`` or raise Http404.

    With ``for_update`` the row is locked (SELECT ... FOR UPDATE); the caller
    must be inside a transaction.
    """
    qs = queryset.visible_to(user)
    if for_update:
        qs = qs.select_for_update()
    try:
        return qs.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found") from exc


def acting_user(actor: User | None) -> Any:
    """Return the auth user to store as an actor, or None for the system/anonymous."""
    return actor if actor is not None and actor.is_authenticated else None
