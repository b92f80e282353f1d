"""API authentication (its own module: DRF imports it while its views module loads)."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import TokenAuthentication as DrfTokenAuthentication

from .roles import access_prime


class TokenAuthentication(DrfTokenAuthentication):
    """DRF's token authentication that also loads roles and permissions in one query."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        access_prime(user)
        return user, token
