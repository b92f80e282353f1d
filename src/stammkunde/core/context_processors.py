from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .navigation import navigation_for
from .roles import has_role


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Put the navigation entries the user may use into every template."""
    user = request.user
    return {
        "nav_items": navigation_for(user) if user.is_authenticated else [],
        "is_admin_role": has_role(user, "admin"),
    }
