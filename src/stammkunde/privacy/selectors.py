"""Reads of data subject requests, exports and retention periods."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User, access_object
from stammkunde.core.roles import ADMIN, AGENT, TEAM_LEAD, has_role

from .models import PrivacyExport, PrivacyRequest, RetentionPeriod

WARN_DAYS = 7  # a request turns "due soon" this many days before its deadline

# Days each kind of data is kept when nobody set a period (see docs/privacy.md).
RETENTION_DEFAULTS: dict[str, int] = {
    RetentionPeriod.Kind.RAW_MAIL: 90,
    RetentionPeriod.Kind.QUARANTINE: 30,
    RetentionPeriod.Kind.CLOSED_TICKETS: 3 * 365,
    RetentionPeriod.Kind.SURVEY_TEXT: 2 * 365,
    RetentionPeriod.Kind.AUDIT: 3 * 365,
    RetentionPeriod.Kind.PROSPECTS: 2 * 365,
    RetentionPeriod.Kind.EXPORTS: 7,
}


def privacy_staff(user: User) -> bool:
    """Who handles data subject requests: agents, team leads, admins."""
    return has_role(user, ADMIN, TEAM_LEAD, AGENT)


def privacy_approver(user: User) -> bool:
    """Who may approve an erasure (the second person) and set retention periods."""
    return has_role(user, ADMIN, TEAM_LEAD)


def _open() -> Q:
    return Q(status__in=[PrivacyRequest.Status.OPEN, PrivacyRequest.Status.AWAITING_APPROVAL])


def request_list(*, user: User, state: str = "open") -> QuerySet[PrivacyRequest]:
    """Return the visible requests, the nearest deadline first (``state``: open, done, all)."""
    qs = PrivacyRequest.objects.visible_to(user).select_related("customer", "handler")
    if state == "open":
        qs = qs.filter(_open())
    elif state == "done":
        qs = qs.exclude(_open())
    return qs.order_by("due_on", "id")


def request_get(*, user: User, pk: Any) -> PrivacyRequest:
    """Return a visible request or raise 404."""
    return access_object(
        PrivacyRequest.objects.select_related(
            "customer", "handler", "approved_by", "identity_checked_by", "erasure_requested_by"
        ),
        user,
        pk=pk,
    )


def deadline_state(request: PrivacyRequest, *, today: date | None = None) -> str:
    """Return "overdue", "due_soon" or "ok" for an open request ("" when closed)."""
    if not request.is_open:
        return ""
    today = today or timezone.localdate()
    deadline = request.extended_until or request.due_on
    if deadline < today:
        return "overdue"
    if deadline <= today + timedelta(days=WARN_DAYS):
        return "due_soon"
    return "ok"


def requests_needing_attention(*, user: User, today: date | None = None) -> int:
    """Count open requests that are overdue, due within ``WARN_DAYS`` or awaiting approval."""
    today = today or timezone.localdate()
    soon = today + timedelta(days=WARN_DAYS)
    return (
        PrivacyRequest.objects.visible_to(user)
        .filter(_open())
        .filter(
            Q(extended_until__isnull=True, due_on__lte=soon)
            | Q(extended_until__lte=soon)
            | Q(status=PrivacyRequest.Status.AWAITING_APPROVAL)
        )
        .count()
    )


def nav_label(user: User) -> str:
    """The navigation entry: "Privacy", with a count for team leads and admins."""
    if privacy_approver(user):
        count = requests_needing_attention(user=user)
        if count:
            return _("Privacy (%(count)d)") % {"count": count}
    return _("Privacy")


def exports_of(*, user: User, request: PrivacyRequest) -> list[PrivacyExport]:
    return list(PrivacyExport.objects.visible_to(user).filter(request=request))


def export_get(*, user: User, pk: Any) -> PrivacyExport:
    return access_object(PrivacyExport.objects.all(), user, pk=pk)


def retention_days() -> dict[str, int]:
    """Return the period in days per kind of data: the stored one, else the default."""
    stored = dict(RetentionPeriod.objects.values_list("kind", "days"))
    return {kind: stored.get(kind, days) for kind, days in RETENTION_DEFAULTS.items()}


def customer_privacy_context(customer: Any, user: User) -> dict[str, Any]:
    """The customer page's privacy panel: requests and one-click consent withdrawal."""
    from stammkunde.customers.selectors import consent_current

    return {
        "requests": list(
            PrivacyRequest.objects.visible_to(user).filter(customer=customer).order_by("-id")[:10]
        ),
        "granted": [c for c in consent_current(customer=customer) if c.status == "granted"],
        "customer_id": customer.pk,
        "customer_number": customer.number,
    }
