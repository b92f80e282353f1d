"""Roles are Django groups with a fixed set of model permissions.

Groups and their permissions are (re)created after every migrate, so that a
new model's permissions reach the roles without a hand-written data migration.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission

from .fastrows import statement_run

ADMIN = "admin"
TEAM_LEAD = "team_lead"
AGENT = "agent"
PARTNER_AGENT = "partner_agent"
MARKETING = "marketing"
ANALYST = "analyst"
ALL_ROLES = (ADMIN, TEAM_LEAD, AGENT, PARTNER_AGENT, MARKETING, ANALYST)

# Roles that work with the whole customer base; a partner agent sees only the
# customers of its partner's queues (see each model's visible_to).
INTERNAL_ROLES = frozenset({ADMIN, TEAM_LEAD, AGENT, MARKETING, ANALYST})

# app_label -> {role: permission verbs}
_VIEW = ("view",)
_EDIT = ("view", "add", "change")
_ALL = ("view", "add", "change", "delete")
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        TEAM_LEAD: _EDIT,
        AGENT: _EDIT,
        PARTNER_AGENT: _VIEW,
        MARKETING: _EDIT,
        ANALYST: _VIEW,
    },
    "commerce": {TEAM_LEAD: _EDIT, AGENT: _EDIT, MARKETING: _VIEW, ANALYST: _VIEW},
    "service": {TEAM_LEAD: _ALL, AGENT: _EDIT, PARTNER_AGENT: _EDIT, ANALYST: _VIEW},
    "knowledge": {TEAM_LEAD: _ALL, AGENT: _EDIT, PARTNER_AGENT: _VIEW, MARKETING: _VIEW},
    "loyalty": {TEAM_LEAD: _EDIT, AGENT: _EDIT, MARKETING: _ALL, ANALYST: _VIEW},
    "feedback": {TEAM_LEAD: _EDIT, AGENT: _VIEW, MARKETING: _ALL, ANALYST: _VIEW},
    "analytics": {TEAM_LEAD: _VIEW, AGENT: _VIEW, MARKETING: _VIEW, ANALYST: _ALL},
    "campaigns": {TEAM_LEAD: _VIEW, MARKETING: _ALL, ANALYST: _VIEW},
    "workforce": {TEAM_LEAD: _ALL, ANALYST: _VIEW, PARTNER_AGENT: _VIEW},
    "channels": {TEAM_LEAD: _VIEW, AGENT: _VIEW, PARTNER_AGENT: _VIEW},
}


def ensure_roles(sender: Any = None, **kwargs: Any) -> None:
    """Create the role groups and give each its permissions (idempotent)."""
    for role in ALL_ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        if role == ADMIN:
            perms = Permission.objects.all()
        else:
            wanted = [
                (app, f"{verb}_")
                for app, roles in ROLE_PERMISSIONS.items()
                for verb in roles.get(role, ())
            ]
            perms = Permission.objects.none()
            for app, prefix in wanted:
                perms = perms | Permission.objects.filter(
                    content_type__app_label=app, codename__startswith=prefix
                )
        group.permissions.set(perms)


def roles_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """Return the role names of a user, cached on the user object for the request."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_stammkunde_roles", None)
    if cached is None:
        # Asked on nearly every request (visibility): one small written-out statement.
        rows = statement_run("default", _roles_sql(), [user.pk], "all")
        cached = roles_remember(user, [name for (name,) in rows])
    return cached


def roles_remember(user: AbstractBaseUser, group_names: Iterable[str]) -> frozenset[str]:
    """Cache ``user``'s roles from its group names (read along with the user elsewhere)."""
    names = set(group_names)
    if getattr(user, "is_superuser", False):
        names.add(ADMIN)
    roles = frozenset(names)
    setattr(user, "_stammkunde_roles", roles)  # noqa: B010  (per-request cache)
    return roles


ROLE_SEPARATOR = "\x1f"  # ASCII unit separator: cannot be typed into a group name


def roles_expression(user_id_sql: str, vendor: str) -> str:
    """SQL for the user's group names joined by ``ROLE_SEPARATOR`` (NULL without groups)."""
    joined = (
        "string_agg(g.name, chr(31))"
        if vendor == "postgresql"
        else "group_concat(g.name, char(31))"
    )
    user_model: Any = get_user_model()
    user_groups = user_model.groups.through._meta.db_table
    return (
        f"(SELECT {joined} FROM {user_groups} ug "  # noqa: S608  (names from model metadata)
        f"JOIN {Group._meta.db_table} g ON g.id = ug.group_id WHERE ug.user_id = {user_id_sql})"
    )


@functools.cache
def _roles_sql() -> str:
    user_model: Any = get_user_model()
    user_groups = user_model.groups.through._meta.db_table
    return (
        f"SELECT g.name FROM {user_groups} ug "  # noqa: S608  (names from model metadata)
        f"JOIN {Group._meta.db_table} g ON g.id = ug.group_id WHERE ug.user_id = %s"
    )


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: str) -> bool:
    """Return True when the user holds any of the given roles."""
    return bool(roles_of(user) & set(roles))


def is_internal(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Return True for staff who work with the whole customer base."""
    return bool(roles_of(user) & INTERNAL_ROLES)


def partner_id_of(user: AbstractBaseUser | AnonymousUser) -> int | None:
    """Return the service partner a partner agent works for, or None."""
    if not has_role(user, PARTNER_AGENT):
        return None
    profile = getattr(user, "profile", None)
    return getattr(profile, "partner_id", None)


# EUR a role may grant as goodwill without a team lead's approval (service desk tickets and
# loyalty points/vouchers alike); ``Profile.goodwill_limit`` overrides it per user.
ROLE_GOODWILL_LIMITS: dict[str, Decimal] = {
    TEAM_LEAD: Decimal("500"),
    AGENT: Decimal("50"),
    PARTNER_AGENT: Decimal("25"),
}


def goodwill_limit_of(user: AbstractBaseUser | AnonymousUser) -> Decimal | None:
    """Return the euros ``user`` may grant alone; None means no limit (admins)."""
    profile = getattr(user, "profile", None)
    if profile is not None and profile.goodwill_limit is not None:
        return Decimal(profile.goodwill_limit)
    if has_role(user, ADMIN):
        return None
    return max(
        (ROLE_GOODWILL_LIMITS[r] for r in roles_of(user) if r in ROLE_GOODWILL_LIMITS),
        default=Decimal("0"),
    )
