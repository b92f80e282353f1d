"""Roles are Django groups with a fixed set of model permissions.

Groups and their permissions are (re)created after every migrate, so that a
new model's permissions reach the roles without a hand-written data migration.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission

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
        names = set(Group.objects.filter(user__pk=user.pk).values_list("name", flat=True))
        if getattr(user, "is_superuser", False):
            names.add(ADMIN)
        cached = frozenset(names)
        setattr(user, "_stammkunde_roles", cached)  # noqa: B010  (per-request cache)
    return cached


def access_prime(user: AbstractBaseUser) -> None:
    """Load the user's roles and permissions in one query and cache both on the user object.

    Without it a request asks three times (groups, the user's own and the groups'
    permissions). The caches are the ones Django's ModelBackend and ``roles_of`` read,
    so ``has_perm`` and ``roles_of`` answer from memory for the rest of the request.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType

    from .fastrows import statement_run

    user_model: Any = get_user_model()
    user_groups = user_model.groups.through._meta.db_table
    user_perms = user_model.user_permissions.through._meta.db_table
    group_perms = Group.permissions.through._meta.db_table
    group, perm = Group._meta.db_table, Permission._meta.db_table
    ctype = ContentType._meta.db_table
    sql = f"""
        SELECT g.name, ct.app_label, p.codename FROM {user_groups} ug
          JOIN {group} g ON g.id = ug.group_id
          LEFT JOIN {group_perms} gp ON gp.group_id = g.id
          LEFT JOIN {perm} p ON p.id = gp.permission_id
          LEFT JOIN {ctype} ct ON ct.id = p.content_type_id
         WHERE ug.user_id = %s
        UNION ALL
        SELECT NULL, ct.app_label, p.codename FROM {user_perms} up
          JOIN {perm} p ON p.id = up.permission_id
          JOIN {ctype} ct ON ct.id = p.content_type_id
         WHERE up.user_id = %s
    """  # noqa: S608  (table names from model metadata, values as parameters)
    rows = statement_run("default", sql, [user.pk, user.pk], "all")
    names = {name for name, _, _ in rows if name is not None}
    if getattr(user, "is_superuser", False):
        names.add(ADMIN)
    setattr(user, "_stammkunde_roles", frozenset(names))  # noqa: B010  (per-request cache)
    if user.is_active:
        perms = {f"{app}.{code}" for _, app, code in rows if code is not None}
        user._perm_cache = perms  # type: ignore[attr-defined]  # ModelBackend's cache


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
