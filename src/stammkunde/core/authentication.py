"""API authentication (its own module: DRF imports it while its views module loads)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication as DrfTokenAuthentication

from .fastrows import rows_fetch


class TokenAuthentication(DrfTokenAuthentication):
    """DRF's token authentication in one lean statement: the token with its user.

    Every till request passes here (docs/loyalty.md, "Throughput"); roles and
    permissions are asked lazily by ``roles_of`` and ``RoleModelBackend``.
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        found = rows_fetch(self.get_model(), "r.key = %s", [key], join="user")
        if not found:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token: Any = found[0]
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
