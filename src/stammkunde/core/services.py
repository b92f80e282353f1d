"""Users and roles: creation and the demo admin login."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction

from .errors import ApplicationError
from .models import Profile, ServicePartner
from .roles import ALL_ROLES, ensure_roles


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    roles: list[str],
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    partner: ServicePartner | None = None,
    goodwill_limit: Decimal | None = None,
) -> AbstractUser:
    """Create a user with roles (and a partner for partner agents)."""
    unknown = set(roles) - set(ALL_ROLES)
    if unknown:
        raise ApplicationError(f"Unknown role(s): {', '.join(sorted(unknown))}", code="role")
    if "partner_agent" in roles and partner is None:
        raise ApplicationError("A partner agent needs a service partner.", code="partner")
    User = get_user_model()
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
    )
    if Group.objects.filter(name__in=roles).count() != len(set(roles)):
        ensure_roles()
    user.groups.set(Group.objects.filter(name__in=roles))
    user.is_staff = "admin" in roles
    user.save(update_fields=["is_staff"])
    Profile.objects.create(user=user, partner=partner, goodwill_limit=goodwill_limit)
    return user  # type: ignore[return-value]


def demo_admin_ensure() -> tuple[str, str]:
    """Create the demo admin once, with a password kept in var/, and return the login."""
    pw_file = settings.VAR_DIR / "admin_password"
    if not pw_file.exists():
        pw_file.write_text(secrets.token_urlsafe(12))
        pw_file.chmod(0o600)
    password = pw_file.read_text().strip()
    User = get_user_model()
    user: Any = User.objects.filter(username="admin").first()
    if user is None:
        user = user_create(
            username="admin",
            password=password,
            roles=["admin"],
            first_name="Anna",
            last_name="Admin",
        )
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
    elif not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    return "admin", password
