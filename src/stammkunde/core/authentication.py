"""API authentication (its own module: DRF imports it while its views module loads)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication as DrfTokenAuthentication

from .db.statements import rows_fetch
from .roles import ROLE_SEPARATOR, roles_expression, roles_remember


class TokenAuthentication(DrfTokenAuthentication):
    """DRF's token authentication in one lean statement: the token, its user, the roles.

    Every till request passes here (docs/loyalty.md, "Throughput"); permissions
    are asked when needed by ``RoleModelBackend``.
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        roles = roles_expression("r.user_id", connection.vendor)
        found = rows_fetch(
            self.get_model(), "r.key = %s", [key], join="user", extra={"group_names": (roles, [])}
        )
        if not found:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token: Any = found[0]
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        roles_remember(
            token.user, (token.group_names or "").split(ROLE_SEPARATOR) if token.group_names else []
        )
        return token.user, token
