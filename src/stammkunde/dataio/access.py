"""Who may use the data tools: imports, merges and webhooks are for admins and team leads."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from stammkunde.core.access import User
from stammkunde.core.roles import ADMIN, TEAM_LEAD, has_role


def may_import(user: User) -> bool:
    """Return True for users who may import data, merge customers and manage webhooks."""
    return has_role(user, ADMIN, TEAM_LEAD)


def require_import_role(user: User) -> None:
    """Raise PermissionDenied (403) unless the user may use the data tools."""
    if not may_import(user):
        raise PermissionDenied
