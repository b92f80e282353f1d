"""Users and roles: creation and the demo admin login."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import transaction

from .errors import ApplicationError
from .models import Profile, ServicePartner
from .roles import ALL_ROLES, ensure_roles
from .users import password_link_path as password_link_path  # re-exported: the settings page
from .users import user_active_set as user_active_set  # re-exported: the settings page
from .users import user_invite as user_invite  # re-exported: the settings page
from .users import user_password_reset as user_password_reset  # re-exported: the settings page
from .users import user_roles_set as user_roles_set  # re-exported: the settings page


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
    """Create a user with roles (and a partner for partner agents).

    The password must pass ``AUTH_PASSWORD_VALIDATORS`` (None: no password login).
    """
    unknown = set(roles) - set(ALL_ROLES)
    if unknown:
        raise ApplicationError(f"Unknown role(s): {', '.join(sorted(unknown))}", code="role")
    if "partner_agent" in roles and partner is None:
        raise ApplicationError("A partner agent needs a service partner.", code="partner")
    User = get_user_model()
    if password is not None:
        password_check(
            password=password,
            user=User(username=username, email=email, first_name=first_name, last_name=last_name),
        )
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


def password_check(*, password: str, user: Any = None) -> None:
    """Raise ApplicationError (field ``password``) unless the password is strong enough.

    The rules are ``AUTH_PASSWORD_VALIDATORS``: at least 12 characters, not like the
    user's name or address, not a common password, not only digits.
    """
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise ApplicationError(
            " ".join(exc.messages), code="password", field_errors={"password": exc.messages}
        ) from exc


def password_set(*, user: Any, password: str) -> None:
    """Give ``user`` a new password after checking its strength."""
    password_check(password=password, user=user)
    user.set_password(password)
    user.save(update_fields=["password"])


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
        password_set(user=user, password=password)
    return "admin", password
