"""Reads of the shared kernel that other apps need: users with their roles, service partners."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from .models import ServicePartner


def partners_list() -> QuerySet[ServicePartner]:
    """Every service partner, by name (for choosing a queue's or a partner agent's partner)."""
    return ServicePartner.objects.order_by("name")


def partner_get(pk: Any) -> ServicePartner | None:
    """The service partner ``pk`` or None."""
    return ServicePartner.objects.filter(pk=pk).first()


def users_list(*, active: bool | None = None) -> QuerySet[Any]:
    """Users with their groups and profile, by user name (the settings' user list)."""
    qs = get_user_model().objects.prefetch_related("groups").select_related("profile__partner")
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("username")


def user_get(pk: Any) -> Any:
    """The user ``pk`` (active or not) or None."""
    return users_list().filter(pk=pk).first()


def any_user_exists() -> bool:
    """True once the install has a user (the first-run wizard is then over)."""
    return get_user_model().objects.exists()
