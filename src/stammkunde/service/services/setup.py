"""What the settings page writes for the service desk: calendars, queues, SLA, reply templates.

Each use case validates everything before it writes anything, inside one
transaction, so a contradicting setting (an SLA first response later than the
resolution, opening hours that end before they start) is refused as a whole
with a message that says what to change. Every change leaves an audit entry.
Messages are translated here: they are meant for the person at the form.
"""

from __future__ import annotations

import string
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import available_timezones

from django.db import transaction
from django.utils.translation import gettext as _

from stammkunde.core.access import User
from stammkunde.core.audit import audit_record, save_audited, snapshot
from stammkunde.core.errors import ApplicationError
from stammkunde.core.roles import ADMIN, AGENT, PARTNER_AGENT, TEAM_LEAD, has_role, partner_id_of

from ..calendar import CalendarError, parse_hours
from ..models import BusinessCalendar, Priority, Queue, ReplyTemplate, SLAPolicy, Team
from .replies import PLACEHOLDERS

if TYPE_CHECKING:
    from stammkunde.core.models import ServicePartner

GERMAN_STATES = {
    "BB": "Brandenburg",
    "BE": "Berlin",
    "BW": "Baden-Württemberg",
    "BY": "Bayern",
    "HB": "Bremen",
    "HE": "Hessen",
    "HH": "Hamburg",
    "MV": "Mecklenburg-Vorpommern",
    "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen",
    "RP": "Rheinland-Pfalz",
    "SH": "Schleswig-Holstein",
    "SL": "Saarland",
    "SN": "Sachsen",
    "ST": "Sachsen-Anhalt",
    "TH": "Thüringen",
}
DESK_ROLES = (ADMIN, TEAM_LEAD, AGENT, PARTNER_AGENT)
SAMPLE_VALUES = {
    "customer_name": "Erika Mustermann",
    "ticket_number": "T-000042",
    "order_number": "B-1001",
}


def _refuse(field: str, message: str, code: str = "invalid") -> ApplicationError:
    return ApplicationError(message, code=code, field_errors={field: [message]})


def weekday_name(day: int) -> str:
    """The translated name of weekday ``day`` (0 = Monday)."""
    return [
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    ][day]


# --------------------------------------------------------------------------- calendars
def _check_hours(opening_hours: dict[str, list[list[str]]]) -> None:
    """Refuse hours that end before they start or overlap, naming the weekday."""
    for day, spans in opening_hours.items():
        name = weekday_name(int(day))
        for start, end in spans:
            if end not in ("24:00", "24:00:00") and end <= start:
                raise _refuse(
                    f"hours_{day}",
                    _(
                        "%(day)s: the hours end (%(end)s) before they start (%(start)s). "
                        "Set the closing time after the opening time."
                    )
                    % {"day": name, "start": start, "end": end},
                    "hours_order",
                )
        ordered = sorted(spans)
        for (_s0, end0), (start1, _e1) in zip(ordered, ordered[1:], strict=False):
            if start1 < end0:
                raise _refuse(
                    f"hours_{day}",
                    _(
                        "%(day)s: the second opening (from %(start)s) begins before the first "
                        "ends (%(end)s). Let it start later."
                    )
                    % {"day": name, "start": start1, "end": end0},
                    "hours_overlap",
                )
    if not any(opening_hours.values()):
        raise _refuse(
            "hours_0",
            _("The calendar has no opening hours at all: open at least one weekday."),
            "no_hours",
        )
    try:
        parse_hours(opening_hours)
    except (CalendarError, ValueError) as exc:
        raise _refuse("hours_0", _("The opening hours cannot be read: %s") % exc) from exc


@transaction.atomic
def calendar_save(
    *,
    actor: User | None,
    calendar: BusinessCalendar | None,
    name: str,
    state: str,
    timezone: str = "Europe/Berlin",
    opening_hours: dict[str, list[list[str]]],
    closed_days: list[date],
) -> BusinessCalendar:
    """Create or change a business calendar: weekly hours, holidays of a state, closed days."""
    name = name.strip()
    if not name:
        raise _refuse("name", _("Give the calendar a name."))
    clash = BusinessCalendar.objects.filter(name__iexact=name)
    if calendar is not None:
        clash = clash.exclude(pk=calendar.pk)
    if clash.exists():
        raise _refuse(
            "name", _("A calendar named %(name)s exists; choose another name.") % {"name": name}
        )
    if state and state not in GERMAN_STATES:
        raise _refuse("state", _("Choose a German federal state or none."))
    if timezone not in available_timezones():
        raise _refuse("timezone", _("Unknown time zone: %(tz)s") % {"tz": timezone})
    hours = {str(d): [list(s) for s in spans] for d, spans in opening_hours.items() if spans}
    _check_hours(hours)
    return save_audited(
        actor=actor,
        existing=calendar,
        new=BusinessCalendar,
        values={
            "name": name,
            "state": state,
            "timezone": timezone,
            "opening_hours": hours,
            "closed_days": sorted({d.isoformat() for d in closed_days}),
        },
    )


# --------------------------------------------------------------------------- queues
@transaction.atomic
def queue_save(
    *,
    actor: User | None,
    queue: Queue | None,
    name: str,
    calendar: BusinessCalendar | None = None,
    team: Team | None = None,
    partner: ServicePartner | None = None,
    members: list[Any] = (),  # type: ignore[assignment]
) -> Queue:
    """Create or change a queue and set its members (desk staff; partner agents of its partner)."""
    name = name.strip()
    if not name:
        raise _refuse("name", _("Give the queue a name."))
    clash = Queue.objects.filter(name__iexact=name)
    if queue is not None:
        clash = clash.exclude(pk=queue.pk)
    if clash.exists():
        raise _refuse(
            "name", _("A queue named %(name)s exists; choose another name.") % {"name": name}
        )
    for member in members:
        if not member.is_active or not has_role(member, *DESK_ROLES):
            raise _refuse(
                "members",
                _("%(user)s does not work at the service desk; give them a desk role first.")
                % {"user": member.get_username()},
            )
        only_partner = has_role(member, PARTNER_AGENT) and not has_role(
            member, ADMIN, TEAM_LEAD, AGENT
        )
        if only_partner and (partner is None or partner_id_of(member) != partner.pk):
            raise _refuse(
                "members",
                _("%(user)s is a partner agent and may only be a member of their partner's queues.")
                % {"user": member.get_username()},
            )
    old_members = sorted(queue.members.values_list("pk", flat=True)) if queue else []

    def members_set(target: Queue) -> dict[str, list[Any]]:
        target.members.set(members)
        new_members = sorted(m.pk for m in members)
        return {"members": [old_members, new_members]} if new_members != old_members else {}

    return save_audited(
        actor=actor,
        existing=queue,
        new=Queue,
        values={"name": name, "calendar": calendar, "team": team, "partner": partner},
        extra=members_set,
    )


# --------------------------------------------------------------------------- SLA policies
SLA_FIELDS = (
    "name",
    "queue",
    "value_class",
    "priority",
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
)


@transaction.atomic
def sla_policy_save(
    *,
    actor: User | None,
    policy: SLAPolicy | None,
    name: str,
    queue: Queue | None,
    value_class: str,
    priority: str,
    first_response_minutes: int,
    next_response_minutes: int,
    resolution_minutes: int,
) -> SLAPolicy:
    """Create or change an SLA policy; targets in working minutes, checked against each other."""
    name = name.strip()
    if not name:
        raise _refuse("name", _("Give the policy a name."))
    if priority and priority not in Priority.values:
        raise _refuse("priority", _("Choose a priority or any."))
    if value_class and value_class not in ("A", "B", "C"):
        raise _refuse("value_class", _("Choose a customer class (A, B, C) or any."))
    for field, value in (
        ("first_response_minutes", first_response_minutes),
        ("next_response_minutes", next_response_minutes),
        ("resolution_minutes", resolution_minutes),
    ):
        if value is None or value <= 0:
            raise _refuse(field, _("A target is at least one working minute."))
    if first_response_minutes > resolution_minutes:
        raise _refuse(
            "first_response_minutes",
            _(
                "The first response (%(first)s min) is later than the resolution "
                "(%(resolution)s min). Shorten the first response or lengthen the resolution."
            )
            % {"first": first_response_minutes, "resolution": resolution_minutes},
            "sla_order",
        )
    if next_response_minutes > resolution_minutes:
        raise _refuse(
            "next_response_minutes",
            _(
                "The next response (%(next)s min) is later than the resolution "
                "(%(resolution)s min). Shorten the next response or lengthen the resolution."
            )
            % {"next": next_response_minutes, "resolution": resolution_minutes},
            "sla_order",
        )
    same_scope = SLAPolicy.objects.filter(queue=queue, value_class=value_class, priority=priority)
    if policy is not None:
        same_scope = same_scope.exclude(pk=policy.pk)
    other = same_scope.first()
    if other is not None:
        raise _refuse(
            "priority",
            _(
                "The policy %(name)s already covers this queue, customer class and priority. "
                "Change that policy or choose another scope."
            )
            % {"name": other.name},
            "sla_scope",
        )
    values = {
        "name": name,
        "queue": queue,
        "value_class": value_class,
        "priority": priority,
        "first_response_minutes": first_response_minutes,
        "next_response_minutes": next_response_minutes,
        "resolution_minutes": resolution_minutes,
    }
    return save_audited(actor=actor, existing=policy, new=SLAPolicy, values=values)


@transaction.atomic
def sla_policy_delete(*, actor: User | None, policy: SLAPolicy) -> None:
    """Delete a policy; tickets keep their due times, new tickets get the next matching one."""
    audit_record(actor=actor, action="delete", obj=policy, changes=snapshot(policy, SLA_FIELDS))
    policy.delete()


# --------------------------------------------------------------------------- reply templates
def template_check(body: str) -> None:
    """Refuse a template whose braces do not parse or that names an unknown placeholder."""
    allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    try:
        names = [field for _text, field, _spec, _conv in string.Formatter().parse(body) if field]
    except ValueError as exc:
        raise _refuse(
            "body",
            _("A curly brace is not closed or stands alone. Write placeholders as %(allowed)s.")
            % {"allowed": allowed},
            "template_braces",
        ) from exc
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    if unknown:
        raise _refuse(
            "body",
            _("Unknown placeholder %(unknown)s. Use one of %(allowed)s.")
            % {"unknown": ", ".join("{" + n + "}" for n in unknown), "allowed": allowed},
            "template_placeholder",
        )


def template_preview(*, body: str) -> str:
    """Return ``body`` filled with sample values (after ``template_check``)."""
    template_check(body)
    return body.format(**SAMPLE_VALUES)


@transaction.atomic
def reply_template_save(
    *,
    actor: User | None,
    template: ReplyTemplate | None,
    name: str,
    language: str,
    body: str,
    active: bool = True,
) -> ReplyTemplate:
    """Create or change a reply template after checking its placeholders."""
    from django.conf import settings

    name = name.strip()
    if not name:
        raise _refuse("name", _("Give the template a name."))
    if language not in dict(settings.LANGUAGES):
        raise _refuse("language", _("Choose the template's language."))
    if not body.strip():
        raise _refuse("body", _("Write the text of the reply."))
    template_check(body)
    clash = ReplyTemplate.objects.filter(name=name, language=language)
    if template is not None:
        clash = clash.exclude(pk=template.pk)
    if clash.exists():
        raise _refuse(
            "name",
            _("A template %(name)s in this language exists; change that one or rename this.")
            % {"name": name},
        )
    return save_audited(
        actor=actor,
        existing=template,
        new=ReplyTemplate,
        values={"name": name, "language": language, "body": body, "active": active},
    )
