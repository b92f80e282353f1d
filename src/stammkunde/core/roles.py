"""Roles are Django groups with a fixed set of model permissions.

Groups and their permissions are (re)created after every migrate, so that a
new model's permissions reach the roles without a hand-written data migration.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
from django.utils.translation import gettext_lazy as _

from .db.statements import statement_run

ADMIN = "admin"
TEAM_LEAD = "team_lead"
AGENT = "agent"
PARTNER_AGENT = "partner_agent"
MARKETING = "marketing"
ANALYST = "analyst"
ALL_ROLES = (ADMIN, TEAM_LEAD, AGENT, PARTNER_AGENT, MARKETING, ANALYST)
ROLE_NAMES = {
    ADMIN: _("Administrator"),
    TEAM_LEAD: _("Team lead"),
    AGENT: _("Agent"),
    PARTNER_AGENT: _("Partner agent"),
    MARKETING: _("Marketing"),
    ANALYST: _("Analyst"),
}

# Roles that work with the whole customer base; a partner agent sees only the
# customers of its partner's queues (see each model's visible_to).
INTERNAL_ROLES = frozenset({ADMIN, TEAM_LEAD, AGENT, MARKETING, ANALYST})

# app_label -> {role: permission verbs}
_VIEW = ("view",)
_EDIT = ("view", "add", "change")
_ALL = ("view", "add", "change", "delete")
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        TEAM_LEAD: _EDIT,
        AGENT: _EDIT,
        PARTNER_AGENT: _VIEW,
        MARKETING: _EDIT,
        ANALYST: _VIEW,
    },
    "commerce": {TEAM_LEAD: _EDIT, AGENT: _EDIT, MARKETING: _VIEW, ANALYST: _VIEW},
    "service": {TEAM_LEAD: _ALL, AGENT: _EDIT, PARTNER_AGENT: _EDIT, ANALYST: _VIEW},
    "knowledge": {TEAM_LEAD: _ALL, AGENT: _EDIT, PARTNER_AGENT: _VIEW, MARKETING: _VIEW},
    "loyalty": {TEAM_LEAD: _EDIT, AGENT: _EDIT, MARKETING: _ALL, ANALYST: _VIEW},
    "feedback": {TEAM_LEAD: _EDIT, AGENT: _VIEW, MARKETING: _ALL, ANALYST: _VIEW},
    "analytics": {TEAM_LEAD: _VIEW, AGENT: _VIEW, MARKETING: _VIEW, ANALYST: _ALL},
    "campaigns": {TEAM_LEAD: _VIEW, MARKETING: _ALL, ANALYST: _VIEW},
    "workforce": {TEAM_LEAD: _ALL, ANALYST: _VIEW, PARTNER_AGENT: _VIEW},
    "channels": {TEAM_LEAD: _VIEW, AGENT: _VIEW, PARTNER_AGENT: _VIEW},
}


def ensure_roles(sender: Any = None, **kwargs: Any) -> None:
    """Create the role groups and give each its permissions (idempotent)."""
    for role in ALL_ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        if role == ADMIN:
            perms = Permission.objects.all()
        else:
            wanted = [
                (app, f"{verb}_")
                for app, roles in ROLE_PERMISSIONS.items()
                for verb in roles.get(role, ())
            ]
            perms = Permission.objects.none()
            for app, prefix in wanted:
                perms = perms | Permission.objects.filter(
                    content_type__app_label=app, codename__startswith=prefix
                )
        group.permissions.set(perms)


def roles_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """Return the role names of a user, cached on the user object for the request."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_stammkunde_roles", None)
    if cached is None:
        # Asked on nearly every request (visibility): one small written-out statement.
        rows = statement_run("default", _roles_sql(), [user.pk], "all")
        cached = roles_remember(user, [name for (name,) in rows])
    return cached


def roles_remember(user: AbstractBaseUser, group_names: Iterable[str]) -> frozenset[str]:
    """Cache ``user``'s roles from its group names (read along with the user elsewhere)."""
    names = set(group_names)
    if getattr(user, "is_superuser", False):
        names.add(ADMIN)
    roles = frozenset(names)
    setattr(user, "_stammkunde_roles", roles)  # noqa: B010  (per-request cache)
    return roles


ROLE_SEPARATOR = "\x1f"  # ASCII unit separator: cannot be typed into a group name


def roles_expression(user_id_sql: str, vendor: str) -> str:
    """SQL for the user's group names joined by ``ROLE_SEPARATOR`` (NULL without groups)."""
    joined = (
        "string_agg(g.name, chr(31))"
        if vendor == "postgresql"
        else "group_concat(g.name, char(31))"
    )
    user_model: Any = get_user_model()
    user_groups = user_model.groups.through._meta.db_table
    return (
        f"(SELECT {joined} FROM {user_groups} ug "  # noqa: S608  (names from model metadata)
        f"JOIN {Group._meta.db_table} g ON g.id = ug.group_id WHERE ug.user_id = {user_id_sql})"
    )


@functools.cache
def _roles_sql() -> str:
    user_model: Any = get_user_model()
    user_groups = user_model.groups.through._meta.db_table
    return (
        f"SELECT g.name FROM {user_groups} ug "  # noqa: S608  (names from model metadata)
        f"JOIN {Group._meta.db_table} g ON g.id = ug.group_id WHERE ug.user_id = %s"
    )


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: str) -> bool:
    """Return True when the user holds any of the given roles."""
    return bool(roles_of(user) & set(roles))


def is_internal(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Return True for staff who work with the whole customer base."""
    return bool(roles_of(user) & INTERNAL_ROLES)


def partner_id_of(user: AbstractBaseUser | AnonymousUser) -> int | None:
    """Return the service partner a partner agent works for, or None."""
    if not has_role(user, PARTNER_AGENT):
        return None
    profile = getattr(user, "profile", None)
    return getattr(profile, "partner_id", None)


# EUR a role may grant as goodwill without a team lead's approval (service desk tickets and
# loyalty points/vouchers alike); ``Profile.goodwill_limit`` overrides it per user.
ROLE_GOODWILL_LIMITS: dict[str, Decimal] = {
    TEAM_LEAD: Decimal("500"),
    AGENT: Decimal("50"),
    PARTNER_AGENT: Decimal("25"),
}


def goodwill_limit_of(user: AbstractBaseUser | AnonymousUser) -> Decimal | None:
    """Return the euros ``user`` may grant alone; None means no limit (admins)."""
    profile = getattr(user, "profile", None)
    if profile is not None and profile.goodwill_limit is not None:
        return Decimal(profile.goodwill_limit)
    if has_role(user, ADMIN):
        return None
    return max(
        (ROLE_GOODWILL_LIMITS[r] for r in roles_of(user) if r in ROLE_GOODWILL_LIMITS),
        default=Decimal("0"),
    )


# --------------------------------------------------------------------------- route access
@dataclass(frozen=True)
class RouteAccess:
    """Who may use one URL route: the expected answer of ``tests/core/test_access_matrix.py``.

    ``roles`` may use the route; every other role is refused (403 or 404, never the
    data) and an anonymous visitor is sent to the login (HTML) or gets 401/403 (API),
    unless ``public``. ``obj`` names the kind of object the path points at: the view
    must look it up through its model's ``visible_to``; for the kinds in
    ``PARTNER_SCOPED_KINDS`` a partner agent gets 404 for any object outside its
    partner's queues.
    """

    roles: frozenset[str]
    obj: str | None = None
    public: bool = False


def _may(*roles: str, obj: str | None = None) -> RouteAccess:
    return RouteAccess(roles=frozenset(roles), obj=obj)


def _public(obj: str | None = None) -> RouteAccess:
    return RouteAccess(roles=frozenset(ALL_ROLES), obj=obj, public=True)


# Objects a partner agent sees only when they belong to its partner's queues.
PARTNER_SCOPED_KINDS = frozenset(
    {"customer", "ticket", "inbound", "outbox", "attachment", "goodwill", "partner"}
)

_EVERY = ALL_ROLES
_DESK = (ADMIN, TEAM_LEAD, AGENT, PARTNER_AGENT)  # the service desk
_INTERNAL_DESK = (ADMIN, TEAM_LEAD, AGENT)
_LEADS = (ADMIN, TEAM_LEAD)
_MARKETING = (ADMIN, TEAM_LEAD, MARKETING)

# URL name (``namespace:name``, DRF: ``basename-action``; unnamed routes: their path)
# -> who may use it. A name ending in ``*`` covers every route starting with the rest
# (only Django's admin site, whose views all require ``is_staff``). Every route the
# resolver knows must be listed: the access matrix test fails on a route missing here.
_ANALYSTS = (ADMIN, TEAM_LEAD, MARKETING, ANALYST)  # reports and campaigns to read
_CAMPAIGNERS = (ADMIN, MARKETING)
_CUSTOMER_EDITORS = (ADMIN, TEAM_LEAD, AGENT, MARKETING)
_TICKET_READERS = (*_DESK, ANALYST)
_PLANNERS = (ADMIN, TEAM_LEAD, ANALYST)
_INTERNAL = tuple(sorted(INTERNAL_ROLES))

ROUTE_ACCESS: dict[str, RouteAccess] = {
    # the shell: start page, login, own password, language, health
    "home": _may(*_EVERY),  # sends a logged-in user on to the customer list
    "health": _public(),
    "login": _public(),
    "logout": _public(),
    "login_code": _public(),  # the code step: without a pending login, back to the login
    "password_reset": _public(),  # reset by mail: the link in the mail is the key
    "password_reset_done": _public(),
    "password_reset_confirm": _public(),
    "password_reset_complete": _public(),
    "password_change": _may(*_EVERY),
    "password_change_done": _may(*_EVERY),
    "two_factor": _may(ADMIN),  # TOTP set-up: admins only (``twofactor.may_use_totp``)
    "set_language": _public(),
    # Django's admin site, one route family: every view requires is_staff (only admins),
    # anyone else is sent to the login; the matrix wants no 500 from it for an admin.
    "admin:*": _may(ADMIN),
    "/admin/*": _may(ADMIN),
    "api-schema": _may(*_EVERY),
    "api-docs": _may(*_EVERY),
    "api-root": _may(*_EVERY),
    # customers
    "customers:list": _may(*_EVERY),
    "customers:create": _may(*_CUSTOMER_EDITORS),
    "customers:picker": _may(*_EVERY),  # choices from the user's visible customers
    "customers:detail": _may(*_EVERY, obj="customer"),
    "customers:timeline": _may(*_EVERY, obj="customer"),
    "customers:edit": _may(*_CUSTOMER_EDITORS, obj="customer"),
    "customers:consent_add": _may(*_CUSTOMER_EDITORS, obj="customer"),
    "customers:address_add": _may(*_CUSTOMER_EDITORS, obj="customer"),
    "customers:address_edit": _may(*_CUSTOMER_EDITORS, obj="customer"),
    "customers:address_delete": _may(*_CUSTOMER_EDITORS, obj="customer"),
    "customers:contact_add": _may(*_CUSTOMER_EDITORS, obj="customer"),
    "customers:contact_edit": _may(*_CUSTOMER_EDITORS, obj="customer"),
    "customers:contact_delete": _may(*_CUSTOMER_EDITORS, obj="customer"),
    "customer-list": _may(*_EVERY),
    "customer-detail": _may(*_EVERY, obj="customer"),
    # commerce and imports
    "order-list": _may(*_INTERNAL),
    "order-detail": _may(*_INTERNAL, obj="order"),
    "product-list": _may(*_INTERNAL),
    "product-detail": _may(*_INTERNAL, obj="product"),
    "ingest-order-list": _may(*_INTERNAL_DESK),
    "ingest-return-list": _may(*_INTERNAL_DESK),
    "dataio:home": _may(*_LEADS),
    "dataio:job": _may(*_LEADS, obj="import_job"),
    "dataio:job_report": _may(*_LEADS, obj="import_job"),
    "dataio:job_start": _may(*_LEADS, obj="import_job"),  # again, when the broker was down
    "dataio:duplicates": _may(*_LEADS),
    "dataio:merge": _may(*_LEADS, obj="duplicate"),
    "dataio:exports": _may(*_EVERY),  # each list is exported through its visible_to
    "dataio:export_download": _may(*_EVERY, obj="export_job"),
    "dataio:export_start": _may(*_EVERY, obj="export_job"),  # the user's own export, again
    "dataio:webhooks": _may(*_LEADS),
    "dataio:webhook_resend": _may(*_LEADS, obj="delivery"),
    # background jobs
    "jobs:list": _may(ADMIN),
    "jobs:running": _may(ADMIN),
    "jobs:start": _may(ADMIN),
    "jobs:acknowledge_all": _may(ADMIN),
    "jobs:detail": _may(ADMIN, obj="job"),
    "jobs:retry": _may(ADMIN, obj="job"),
    "jobs:acknowledge": _may(ADMIN, obj="job"),
    # service desk
    "service:inbox": _may(*_TICKET_READERS),
    "service:reports": _may(*_TICKET_READERS),
    "service:bulk": _may(*_DESK),
    "service:notifications_read": _may(*_EVERY),  # marks the user's own notifications read
    "service:create": _may(*_DESK),
    "service:ticket": _may(*_TICKET_READERS, obj="ticket"),
    "service:template": _may(*_TICKET_READERS, obj="ticket"),
    "service:attachment": _may(*_TICKET_READERS, obj="attachment"),
    "service:reply": _may(*_DESK, obj="ticket"),
    "service:change": _may(*_DESK, obj="ticket"),
    "service:goodwill": _may(*_DESK, obj="ticket"),
    "service:handover": _may(*_DESK, obj="ticket"),
    "service:macro": _may(*_DESK, obj="ticket"),
    "service:merge": _may(*_DESK, obj="ticket"),
    "service:split": _may(*_DESK, obj="ticket"),
    "service:goodwill_decide": _may(*_LEADS, obj="goodwill"),
    "ticket-list": _may(*_TICKET_READERS),
    "ticket-detail": _may(*_TICKET_READERS, obj="ticket"),
    "ticket-attachments": _may(*_TICKET_READERS, obj="ticket"),
    "ticket-messages": _may(*_TICKET_READERS, obj="ticket"),
    "ticket-sla-state": _may(*_TICKET_READERS, obj="ticket"),
    # mail, contact form, logged contacts
    "channels:quarantine": _may(ADMIN),
    "channels:reprocess": _may(ADMIN, obj="inbound"),
    "channels:inbound_raw": _may(*_DESK, obj="inbound"),
    "channels:inbound_attachment": _may(*_DESK, obj="inbound"),
    "channels:ticket_mail": _may(*_DESK, obj="ticket"),
    "channels:outbox_retry": _may(*_DESK, obj="outbox"),  # send a failed mail again
    "channels:contact": _public(),
    "channels:contact_log": _may(*_INTERNAL, obj="customer"),
    "channels-inbound-list": _may(*_DESK),
    "channels-inbound-detail": _may(*_DESK, obj="inbound"),
    "channels-inbound-reprocess": _may(ADMIN, obj="inbound"),
    "channels-outbox-list": _may(*_DESK),
    "channels-outbox-detail": _may(*_DESK, obj="outbox"),
    # knowledge base
    "knowledge:list": _may(*_EVERY),
    "knowledge:detail": _may(*_EVERY, obj="article"),
    "knowledge:create": _may(*_INTERNAL_DESK),
    "knowledge:edit": _may(*_INTERNAL_DESK, obj="article"),
    # loyalty
    "loyalty:reports": _may(*_INTERNAL),
    "loyalty:programs": _may(*_MARKETING),
    "loyalty:program_create": _may(*_MARKETING),
    "loyalty:program_edit": _may(*_MARKETING, obj="program"),
    "loyalty:settings": _may(ADMIN),  # the settings section "Loyalty program"
    "loyalty:settings_create": _may(ADMIN),
    "loyalty:settings_program": _may(ADMIN, obj="program"),
    "loyalty:enroll": _may(*_CUSTOMER_EDITORS, obj="customer"),
    "loyalty:goodwill": _may(*_CUSTOMER_EDITORS, obj="customer"),
    "loyalty:self_service": _public(),  # the signed link is the key
    "loyalty:card_print": _public(),
    "loyalty-account-card": _may(*_INTERNAL, obj="account"),
    "loyalty-account-detail": _may(*_INTERNAL, obj="account"),
    "loyalty-account-entries": _may(*_INTERNAL, obj="account"),
    "loyalty-account-commit": _may(*_CUSTOMER_EDITORS, obj="account"),
    "loyalty-account-earn": _may(*_CUSTOMER_EDITORS, obj="account"),
    "loyalty-account-quote": _may(*_CUSTOMER_EDITORS, obj="account"),
    "loyalty-account-redeem": _may(*_CUSTOMER_EDITORS, obj="account"),
    "loyalty-voucher-redeem": _may(*_CUSTOMER_EDITORS),
    "loyalty-voucher-validate": _may(*_CUSTOMER_EDITORS),
    # feedback
    "feedback:surveys": _may(*_INTERNAL),
    "feedback:survey": _may(*_INTERNAL, obj="survey"),
    "feedback:report": _may(*_INTERNAL),
    "feedback:response": _may(*_INTERNAL, obj="response"),
    "feedback:response_enter": _may(*_CUSTOMER_EDITORS, obj="survey"),
    "feedback:survey_create": _may(*_MARKETING),
    "feedback:survey_edit": _may(*_MARKETING, obj="survey"),
    "feedback:survey_publish": _may(*_MARKETING, obj="survey"),
    "feedback:trigger_add": _may(*_MARKETING, obj="survey"),
    "feedback:trigger_toggle": _may(*_MARKETING, obj="trigger"),
    "feedback:rules": _may(*_LEADS),  # the settings section "Survey rules"
    "feedback:rule_create": _may(*_LEADS),
    "feedback:rule": _may(*_LEADS, obj="trigger"),
    "feedback:rule_active": _may(*_LEADS, obj="trigger"),
    "feedback:plotly_js": _public(),
    "feedback:answer": _public(),  # the signed invitation is the key
    "feedback-survey-list": _may(*_INTERNAL),
    "feedback-survey-detail": _may(*_INTERNAL, obj="survey"),
    "feedback-response-list": _may(*_INTERNAL),
    "feedback-response-detail": _may(*_INTERNAL, obj="response"),
    # analytics and campaigns
    "analytics:dashboard": _may(*_ANALYSTS),
    "analytics:plotly_js": _public(),
    "campaigns:list": _may(*_ANALYSTS),
    "campaigns:detail": _may(*_ANALYSTS, obj="campaign"),
    "campaigns:export": _may(*_ANALYSTS, obj="campaign"),
    "campaigns:letters": _may(*_ANALYSTS, obj="campaign"),
    "campaigns:letters_csv": _may(*_ANALYSTS, obj="campaign"),
    "campaigns:segments": _may(*_ANALYSTS),
    "campaigns:segment_count": _may(*_ANALYSTS),
    "campaigns:create": _may(*_CAMPAIGNERS),
    "campaigns:edit": _may(*_CAMPAIGNERS, obj="campaign"),
    "campaigns:status": _may(*_CAMPAIGNERS, obj="campaign"),
    "campaigns:run": _may(*_CAMPAIGNERS, obj="campaign"),
    "campaigns:preview": _may(*_CAMPAIGNERS, obj="campaign"),
    "campaigns:test_send": _may(*_CAMPAIGNERS, obj="campaign"),
    "campaigns:evaluate": _may(*_CAMPAIGNERS, obj="campaign"),
    "campaigns:segment_create": _may(*_CAMPAIGNERS),
    "campaigns:segment_edit": _may(*_CAMPAIGNERS, obj="segment"),
    "campaigns:plotly_js": _public(),
    "campaigns:signup": _public(),
    "campaigns:signup_confirm": _public(),
    "campaigns:unsubscribe": _public(),
    "campaign-segment-list": _may(*_ANALYSTS),
    "campaign-segment-detail": _may(*_ANALYSTS, obj="segment"),
    "campaign-segment-count": _may(*_ANALYSTS),
    "campaign-list": _may(*_ANALYSTS),
    "campaign-detail": _may(*_ANALYSTS, obj="campaign"),
    "campaign-evaluation": _may(*_ANALYSTS, obj="campaign"),
    "campaign-send": _may(*_CAMPAIGNERS, obj="campaign"),
    "campaign-set-status": _may(*_CAMPAIGNERS, obj="campaign"),
    # workforce
    "workforce:index": _may(*_PLANNERS, PARTNER_AGENT),  # a partner agent: its scorecard
    "workforce:forecast": _may(*_PLANNERS),
    "workforce:staffing": _may(*_PLANNERS),
    "workforce:scenario": _may(*_PLANNERS),
    "workforce:imports": _may(*_PLANNERS),
    "workforce:roster_block": _may(*_LEADS),
    "workforce:target_set": _may(*_LEADS),
    "workforce:scorecards": _may(*_PLANNERS, PARTNER_AGENT),
    "workforce:scorecard_partner": _may(*_PLANNERS, PARTNER_AGENT, obj="partner"),
    "workforce:plotly": _public(),
    "staffing-erlang": _may(*_PLANNERS),
    "workforce-forecast-list": _may(*_PLANNERS),
    "workforce-scorecard-list": _may(*_PLANNERS, PARTNER_AGENT),
    # privacy (DSGVO requests are handled by the service staff)
    "privacy:list": _may(*_INTERNAL_DESK),
    "privacy:create": _may(*_INTERNAL_DESK),
    "privacy:records": _may(*_INTERNAL_DESK),
    "privacy:detail": _may(*_INTERNAL_DESK, obj="privacy_request"),
    "privacy:identity": _may(*_INTERNAL_DESK, obj="privacy_request"),
    "privacy:extend": _may(*_LEADS, obj="privacy_request"),  # extending a deadline: leads
    "privacy:export_start": _may(*_INTERNAL_DESK, obj="privacy_request"),
    "privacy:erasure_submit": _may(*_INTERNAL_DESK, obj="privacy_request"),
    "privacy:erasure_approve": _may(*_LEADS, obj="privacy_request"),
    "privacy:close": _may(*_INTERNAL_DESK, obj="privacy_request"),
    "privacy:export_progress": _may(*_INTERNAL_DESK, obj="privacy_export"),
    "privacy:export_download": _may(*_INTERNAL_DESK, obj="privacy_export"),
    "privacy:consent_withdraw": _may(*_INTERNAL_DESK, obj="customer"),
    "privacy:retention": _may(*_LEADS),
    # settings (/settings/): company and users for admins, the desk's settings for leads
    "settings:index": _may(*_LEADS),
    "settings:welcome": _public(),  # the first-run wizard; once a user exists: to the start page
    "settings:company": _may(ADMIN),
    "settings:logo": _public(),  # mails show it
    "settings:calendars": _may(*_LEADS),
    "settings:calendar_create": _may(*_LEADS),
    "settings:calendar": _may(*_LEADS, obj="calendar"),
    "settings:queues": _may(*_LEADS),
    "settings:queue_create": _may(*_LEADS),
    "settings:queue": _may(*_LEADS, obj="queue"),
    "settings:sla": _may(*_LEADS),
    "settings:sla_create": _may(*_LEADS),
    "settings:sla_policy": _may(*_LEADS, obj="sla_policy"),
    "settings:sla_delete": _may(*_LEADS, obj="sla_policy"),
    "settings:templates": _may(*_LEADS),
    "settings:template_create": _may(*_LEADS),
    "settings:template": _may(*_LEADS, obj="reply_template"),
    "settings:users": _may(ADMIN),
    "settings:user_invite": _may(ADMIN),
    "settings:user": _may(ADMIN, obj="user"),
    "settings:user_active": _may(ADMIN, obj="user"),
    "settings:user_password": _may(ADMIN, obj="user"),
    "settings:mail_accounts": _may(ADMIN),
    "settings:mailbox_create": _may(ADMIN),
    "settings:mailbox": _may(ADMIN, obj="mailbox"),
    "settings:mailbox_active": _may(ADMIN, obj="mailbox"),
    "settings:mailbox_test": _may(ADMIN, obj="mailbox"),
    "settings:mail_outgoing": _may(ADMIN),
    "settings:mail_outgoing_test": _may(ADMIN),
}
