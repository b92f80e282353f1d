"""Permission checks that ask for the one permission a request needs."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from .db.statements import statement_run

# From the second distinct permission asked in one request on, all are loaded at once.
SINGLE_CHECKS = 1


class RoleModelBackend(ModelBackend):
    """Django's ModelBackend, asking the database for single permissions first.

    ModelBackend loads every permission of the user on the first check: for an
    agent about a hundred rows over four tables, 0.6 ms of database CPU, the
    largest single cost of a till request. An API request checks one
    permission, so that one is asked with one indexed statement. A page that
    checks more loads them all, in one statement (Django uses two). The answers
    are the same; ``tests/core/test_permissions_backend.py`` compares them.
    """

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                return super().get_all_permissions(user_obj)
            rows = statement_run("default", _all_sql(), [user_obj.pk, user_obj.pk], "all")
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in rows}
        return set(user_obj._perm_cache)

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return False
        if hasattr(user_obj, "_perm_cache"):
            return perm in user_obj._perm_cache
        asked: dict[str, bool] = user_obj.__dict__.setdefault("_stammkunde_perms_asked", {})
        if perm not in asked:
            if len(asked) >= SINGLE_CHECKS:
                return perm in self.get_all_permissions(user_obj)
            asked[perm] = _granted(user_obj.pk, perm)
        return asked[perm]


def _granted(user_id: int, perm: str) -> bool:
    app_label, _, codename = perm.partition(".")
    if not codename:
        return False
    params = [app_label, codename, user_id] * 2
    return statement_run("default", _granted_sql(), params, "one") is not None


def _chains(select: str, condition: str, union: str) -> str:
    """Permissions reaching a user through a group or directly: two join chains.

    ``condition`` is added to both chains' WHERE, before the user's id (a parameter).
    (An EXISTS/IN form let PostgreSQL hash all group permissions: 3x the CPU.)
    """
    user_model: Any = get_user_model()
    user_perms = user_model.user_permissions.through._meta.db_table
    user_groups = user_model.groups.through._meta.db_table
    group_perms = Group.permissions.through._meta.db_table
    permission = (
        f"SELECT {select} FROM {Permission._meta.db_table} p "  # noqa: S608  (names from metadata)
        f"JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id "
    )
    return (
        f"{permission}JOIN {group_perms} gp ON gp.permission_id = p.id "
        f"JOIN {user_groups} ug ON ug.group_id = gp.group_id WHERE {condition} ug.user_id = %s "
        f"{union} {permission}JOIN {user_perms} up ON up.permission_id = p.id "
        f"WHERE {condition} up.user_id = %s"
    )


@functools.cache
def _granted_sql() -> str:
    return _chains("1", "ct.app_label = %s AND p.codename = %s AND", "UNION ALL") + " LIMIT 1"


@functools.cache
def _all_sql() -> str:
    return _chains("ct.app_label, p.codename", "", "UNION")
