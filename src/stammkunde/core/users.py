"""Users as the settings page manages them: invite, roles, goodwill limit, deactivate.

Roles are groups (``core.roles``); these services keep the rules that hold on
every write path: a partner agent needs a partner, nobody removes or disables
the last active admin (nobody could reach the settings any more), nobody
disables themselves, and every change leaves an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .access import User
from .audit import audit_record
from .errors import ApplicationError
from .models import Profile, ServicePartner
from .roles import ADMIN, ALL_ROLES, PARTNER_AGENT, ensure_roles


@dataclass(frozen=True)
class PasswordLink:
    """A user and the path of the page where they choose their password."""

    user: Any
    path: str


def password_link_path(user: Any) -> str:
    """Return the path of Django's set-password page for ``user`` (a one-time token)."""
    return reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


def _check_roles(roles: list[str], partner: ServicePartner | None) -> None:
    if not roles:
        raise ApplicationError(
            _("Choose at least one role."), code="roles", field_errors={"roles": [_("Required.")]}
        )
    unknown = set(roles) - set(ALL_ROLES)
    if unknown:
        raise ApplicationError(
            _("Unknown role: %(roles)s") % {"roles": ", ".join(sorted(unknown))}, code="roles"
        )
    if PARTNER_AGENT in roles and partner is None:
        message = _("A partner agent works for a service partner: choose the partner.")
        raise ApplicationError(message, code="partner", field_errors={"partner": [message]})


def _check_goodwill(limit: Decimal | None) -> None:
    if limit is not None and limit < 0:
        message = _("The goodwill limit cannot be negative; leave it empty for the role's limit.")
        raise ApplicationError(message, code="goodwill", field_errors={"goodwill_limit": [message]})


def _other_active_admins(user: Any) -> bool:
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(groups__name=ADMIN)
        .exclude(pk=user.pk)
        .exists()
    )


def _check_last_admin(user: Any) -> None:
    if not _other_active_admins(user):
        raise ApplicationError(
            _("%(user)s is the last active admin. Give another user the admin role first.")
            % {"user": user.get_username()},
            code="last_admin",
        )


@transaction.atomic
def user_invite(
    *,
    actor: User | None,
    username: str,
    email: str,
    roles: list[str],
    first_name: str = "",
    last_name: str = "",
    partner: ServicePartner | None = None,
    goodwill_limit: Decimal | None = None,
) -> PasswordLink:
    """Create a user without a password and return the link where they choose one."""
    from .services import user_create

    user_model: Any = get_user_model()
    username = username.strip()
    errors: dict[str, list[str]] = {}
    try:
        user_model.username_validator(username)
    except ValidationError as exc:
        errors["username"] = list(exc.messages)
    if not username:
        errors["username"] = [_("Required.")]
    elif user_model.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This user name is taken; choose another one.")]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter the e-mail address the invitation goes to.")]
    if errors:
        raise ApplicationError(
            " ".join(m for ms in errors.values() for m in ms), code="invalid", field_errors=errors
        )
    _check_roles(roles, partner)
    _check_goodwill(goodwill_limit)
    user = user_create(
        username=username,
        password=None,
        roles=roles,
        email=email.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        partner=partner if PARTNER_AGENT in roles else None,
        goodwill_limit=goodwill_limit,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=user,
        changes={"username": username, "email": email, "roles": sorted(roles), "invited": True},
    )
    return PasswordLink(user=user, path=password_link_path(user))


@transaction.atomic
def user_roles_set(
    *,
    actor: User | None,
    user: Any,
    roles: list[str],
    partner: ServicePartner | None = None,
    goodwill_limit: Decimal | None = None,
) -> Any:
    """Give ``user`` exactly ``roles`` (and a partner, a goodwill limit); audited."""
    _check_roles(roles, partner)
    _check_goodwill(goodwill_limit)
    before = sorted(user.groups.values_list("name", flat=True))
    if ADMIN in before and ADMIN not in roles and user.is_active:
        _check_last_admin(user)
    if Group.objects.filter(name__in=roles).count() != len(set(roles)):
        ensure_roles()
    profile, _created = Profile.objects.get_or_create(user=user)
    old_profile = (profile.partner_id, profile.goodwill_limit)
    user.groups.set(Group.objects.filter(name__in=roles))
    user.is_staff = ADMIN in roles
    user.save(update_fields=["is_staff"])
    profile.partner = partner if PARTNER_AGENT in roles else None
    profile.goodwill_limit = goodwill_limit
    profile.save(update_fields=["partner", "goodwill_limit"])
    changes: dict[str, Any] = {}
    if before != sorted(roles):
        changes["roles"] = [before, sorted(roles)]
    if old_profile[0] != profile.partner_id:
        changes["partner"] = [old_profile[0], profile.partner_id]
    if old_profile[1] != goodwill_limit:
        changes["goodwill_limit"] = [
            None if old_profile[1] is None else str(old_profile[1]),
            None if goodwill_limit is None else str(goodwill_limit),
        ]
    if changes:
        audit_record(actor=actor, action="update", obj=user, changes=changes)
    setattr(user, "_stammkunde_roles", None)  # noqa: B010  (drop the per-request cache)
    return user


@transaction.atomic
def user_active_set(*, actor: User | None, user: Any, active: bool) -> Any:
    """Deactivate (no login, no work assigned) or reactivate a user; audited."""
    if user.is_active == active:
        return user
    if not active:
        if actor is not None and getattr(actor, "pk", None) == user.pk:
            raise ApplicationError(
                _("You cannot deactivate yourself; ask another admin."), code="self"
            )
        if user.groups.filter(name=ADMIN).exists():
            _check_last_admin(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor, action="update", obj=user, changes={"is_active": [not active, active]}
    )
    return user


@transaction.atomic
def user_password_reset(*, actor: User | None, user: Any) -> PasswordLink:
    """Make the old password unusable and return the link to choose a new one; audited."""
    if not user.is_active:
        raise ApplicationError(
            _("%(user)s is deactivated; reactivate the user first.")
            % {"user": user.get_username()},
            code="inactive",
        )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    audit_record(actor=actor, action="update", obj=user, changes={"password": "reset"})
    return PasswordLink(user=user, path=password_link_path(user))
