"""Writes of the settings app: company data, the first run, invitations and reset links.

Service-desk settings (calendars, queues, SLA, templates) are written by
``service.services``, users and roles by ``core.services``; this module adds
what only the settings app knows: the company record, the mail that carries a
set-password link, and the first run, which creates company, admin, calendar
and queue in one transaction (or nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.channels import services as channels_services
from stammkunde.core import services as core_services
from stammkunde.core.access import User
from stammkunde.core.audit import audit_record, diff, snapshot
from stammkunde.core.errors import ApplicationError, ConflictError
from stammkunde.core.roles import ADMIN
from stammkunde.core.selectors import any_user_exists
from stammkunde.service.services import setup as service_services

from .models import Company

COMPANY_FIELDS = (
    "name",
    "street",
    "postal_code",
    "city",
    "phone",
    "email",
    "imprint_url",
    "privacy_url",
)
LOGO_MAX_BYTES = 512 * 1024
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}  # no SVG: it can carry script
DEFAULT_HOURS = {str(d): [["09:00", "18:00"]] for d in range(5)} | {"5": [["10:00", "14:00"]]}


def _refuse(field: str, message: str, code: str = "invalid") -> ApplicationError:
    return ApplicationError(message, code=code, field_errors={field: [message]})


def _logo_extension(logo: UploadedFile) -> str:
    if logo.size is not None and logo.size > LOGO_MAX_BYTES:
        raise _refuse("logo", _("The logo is larger than 512 KB; upload a smaller PNG or JPEG."))
    head = logo.read(8)
    logo.seek(0)
    for magic, extension in LOGO_TYPES.items():
        if head.startswith(magic):
            return extension
    raise _refuse("logo", _("The logo must be a PNG or JPEG image."))


def _check_company(data: dict[str, Any]) -> dict[str, str]:
    clean = {f: str(data.get(f) or "").strip() for f in COMPANY_FIELDS}
    if not clean["name"]:
        raise _refuse("name", _("Enter the company name your customers know."))
    if clean["email"]:
        try:
            validate_email(clean["email"])
        except ValidationError as exc:
            raise _refuse("email", _("Enter a valid e-mail address.")) from exc
    for field in ("imprint_url", "privacy_url"):
        if clean[field]:
            try:
                URLValidator(schemes=["https", "http"])(clean[field])
            except ValidationError as exc:
                raise _refuse(
                    field, _("Enter the full address of the page, starting with https://.")
                ) from exc
    return clean


@transaction.atomic
def company_save(
    *, actor: User | None, data: dict[str, Any], logo: UploadedFile | None = None
) -> Company:
    """Create or change the company record (and its logo); audited."""
    clean = _check_company(data)
    extension = _logo_extension(logo) if logo is not None else None
    company = Company.objects.select_for_update().filter(pk=1).first()
    created = company is None
    company = company or Company(pk=1)
    before = {} if created else {**snapshot(company, COMPANY_FIELDS), "logo": company.logo.name}
    for field, value in clean.items():
        setattr(company, field, value)
    if logo is not None:
        company.logo.save(f"logo.{extension}", logo, save=False)
    company.save()
    changes = diff(before, {**snapshot(company, COMPANY_FIELDS), "logo": company.logo.name})
    if changes:
        audit_record(
            actor=actor,
            action="create" if created else "update",
            obj=company,
            changes=changes,
        )
    return company


# --------------------------------------------------------------------------- mails
def _mail_link(*, user: Any, url: str, invited: bool) -> None:
    """Send the set-password link after the transaction (no network I/O inside it)."""
    from .selectors import company_get

    company = company_get()
    shop = company.name if company else "Stammkunde"
    sender = (
        company.email if company and company.email else ""
    ) or channels_services.default_sender()
    if invited:
        subject = _("%(shop)s: your access to Stammkunde") % {"shop": shop}
        body = _(
            "Hello %(name)s,\n\n%(shop)s has set up an account for you (user name: %(username)s). "
            "Choose your password here:\n\n%(url)s\n\nThe link works once and for three days."
        )
    else:
        subject = _("%(shop)s: choose a new password") % {"shop": shop}
        body = _(
            "Hello %(name)s,\n\nyour password for %(shop)s was reset (user name: %(username)s). "
            "Choose a new one here:\n\n%(url)s\n\nThe link works once and for three days."
        )
    text = body % {
        "name": user.get_full_name() or user.get_username(),
        "shop": shop,
        "username": user.get_username(),
        "url": url,
    }
    recipient = user.email
    if recipient:
        # Through the SMTP server of the mail-account settings when one is set.
        transaction.on_commit(
            lambda: send_mail(
                subject,
                text,
                sender,
                [recipient],
                fail_silently=True,
                connection=channels_services.mail_connection(fail_silently=True),
            )
        )


@dataclass(frozen=True)
class Invitation:
    user: Any
    url: str  # the set-password link, shown to the admin as well


@transaction.atomic
def colleague_invite(*, actor: User | None, base_url: str, **data: Any) -> Invitation:
    """Create a colleague's user with roles and mail them the link to choose a password."""
    link = core_services.user_invite(actor=actor, **data)
    url = base_url.rstrip("/") + link.path
    _mail_link(user=link.user, url=url, invited=True)
    return Invitation(user=link.user, url=url)


@transaction.atomic
def colleague_password_reset(*, actor: User | None, user: Any, base_url: str) -> Invitation:
    """Reset a colleague's password and mail them the link to choose a new one."""
    link = core_services.user_password_reset(actor=actor, user=user)
    url = base_url.rstrip("/") + link.path
    _mail_link(user=user, url=url, invited=False)
    return Invitation(user=user, url=url)


# --------------------------------------------------------------------------- first run
@dataclass(frozen=True)
class FirstRun:
    """What the wizard collected: checked step by step, written at the end in one go."""

    company: dict[str, Any]
    state: str
    admin: dict[str, str]  # username, email, first_name, last_name, password_hash
    queue_name: str


def first_admin_check(
    *, username: str, email: str, password: str, first_name: str = "", last_name: str = ""
) -> dict[str, str]:
    """Check the first admin's data (the password's strength too); return it with a hash."""
    from django.contrib.auth import get_user_model

    user_model: Any = get_user_model()
    username = username.strip()
    if not username:
        raise _refuse("username", _("Choose a user name for logging in."))
    try:
        user_model.username_validator(username)
    except ValidationError as exc:
        raise _refuse("username", " ".join(exc.messages)) from exc
    try:
        validate_email(email)
    except ValidationError as exc:
        raise _refuse("email", _("Enter your e-mail address (for a forgotten password).")) from exc
    core_services.password_check(
        password=password,
        user=user_model(username=username, email=email, first_name=first_name, last_name=last_name),
    )
    return {
        "username": username,
        "email": email.strip(),
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "password_hash": make_password(password),
    }


def first_run_company_check(*, data: dict[str, Any], state: str) -> dict[str, str]:
    """Check the wizard's company step (name, address, links, federal state)."""
    clean = _check_company(data)
    if state and state not in service_services.GERMAN_STATES:
        raise _refuse("state", _("Choose a German federal state or none."))
    return clean


@transaction.atomic
def first_run_complete(*, run: FirstRun) -> Any:
    """Write company, first admin, business calendar and first queue, or nothing at all.

    Refused once any user exists: the wizard is for a fresh install only (a
    second browser that finished first wins; this one must log in instead).
    """
    if any_user_exists():
        raise ConflictError(
            _("This Stammkunde is already set up; log in instead."), code="already_set_up"
        )
    if not run.queue_name.strip():
        raise _refuse("queue_name", _("Name the first queue, e.g. Kundenservice."))
    admin = core_services.user_create(
        username=run.admin["username"],
        password=None,
        roles=[ADMIN],
        email=run.admin["email"],
        first_name=run.admin["first_name"],
        last_name=run.admin["last_name"],
    )
    admin.password = run.admin["password_hash"]
    admin.is_superuser = True
    admin.save(update_fields=["password", "is_superuser"])
    audit_record(actor=admin, action="create", obj=admin, changes={"first_run": True})
    company_save(actor=admin, data=run.company)
    this_year = timezone.localdate().year
    calendar = service_services.calendar_save(
        actor=admin,
        calendar=None,
        name=_("Business hours"),
        state=run.state,
        opening_hours=DEFAULT_HOURS,
        closed_days=[date(this_year, 12, 24), date(this_year, 12, 31)],
    )
    service_services.queue_save(
        actor=admin, queue=None, name=run.queue_name, calendar=calendar, members=[admin]
    )
    return admin
