"""Survey rules of the settings page: create, change and switch off survey triggers.

A trigger is checked as a whole before anything is written: the event's own
settings (a phase for phase triggers, a period for periodic ones), whole days
in range, a link valid for at least a day, and no period shorter than the
minimum gap (every other invitation would be suppressed). A refusal names the
field and says what to change. Every change leaves an audit entry; creating
goes through ``surveys.trigger_create``, switching on and off through
``surveys.trigger_set_active``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from stammkunde.core.access import User
from stammkunde.core.audit import audit_record, diff, snapshot
from stammkunde.core.errors import ApplicationError

from ..models import Survey, Trigger
from .surveys import trigger_create

__all__ = [
    "TRIGGER_FIELDS",
    "TRIGGER_PHASES",
    "trigger_rules_check",
    "trigger_save",
    "trigger_update",
]

TRIGGER_FIELDS = ("event", "delay_days", "period_days", "phase", "min_gap_days", "expiry_days")
# The lifecycle phases analytics records (``analytics.models.lifecycle.PHASES``; above us).
TRIGGER_PHASES = ("new", "established", "churn_prone", "churning", "lost")
DAYS_MAX = 3650


def _days(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def trigger_rules_check(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the trigger's cleaned values or raise ApplicationError with every problem."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    event = str(values.get("event") or "")
    if event not in Trigger.Event.values:
        add("event", _("Choose when the survey is sent."))
    clean: dict[str, Any] = {"event": event}
    minimum = {"delay_days": 0, "period_days": 1, "min_gap_days": 0, "expiry_days": 1}
    for name, low in minimum.items():
        days = _days(values.get(name))
        if days is None:
            add(name, _("Enter a whole number of days."))
        elif not low <= days <= DAYS_MAX:
            add(
                name,
                _("Enter from %(low)d to %(high)d days.") % {"low": low, "high": DAYS_MAX},
            )
        clean[name] = days
    phase = str(values.get("phase") or "").strip()
    if event == Trigger.Event.PHASE:
        if not phase:
            add("phase", _("Choose the lifecycle phase that sends the survey."))
        elif phase not in TRIGGER_PHASES:
            add("phase", _("Choose one of the listed lifecycle phases."))
    else:
        phase = ""  # only phase triggers have one
    clean["phase"] = phase
    period, gap = clean.get("period_days"), clean.get("min_gap_days")
    if (
        event == Trigger.Event.PERIODIC
        and "period_days" not in errors
        and "min_gap_days" not in errors
        and period is not None
        and gap is not None
        and period < gap
    ):
        add(
            "period_days",
            _(
                "The period (%(period)d days) is shorter than the minimum gap per customer "
                "(%(gap)d days): every other invitation would be suppressed. Lengthen the "
                "period or shorten the gap."
            )
            % {"period": period, "gap": gap},
        )
    if errors:
        text = " ".join(m for messages in errors.values() for m in messages)
        raise ApplicationError(text, code="trigger_rules", field_errors=errors)
    return clean


@transaction.atomic
def trigger_update(*, actor: User | None, trigger: Trigger, **values: Any) -> Trigger:
    """Change a trigger's settings (``TRIGGER_FIELDS``); checked as a whole, audited."""
    unknown = sorted(set(values) - set(TRIGGER_FIELDS))
    if unknown:
        raise ApplicationError(
            _("Unknown field(s): %(f)s") % {"f": ", ".join(unknown)},
            field_errors={f: [_("Unknown field.")] for f in unknown},
        )
    locked = Trigger.objects.select_for_update().get(pk=trigger.pk)
    before = snapshot(locked, TRIGGER_FIELDS)
    clean = trigger_rules_check({**before, **values})
    for name, value in clean.items():
        setattr(locked, name, value)
    changes = diff(before, snapshot(locked, TRIGGER_FIELDS))
    if changes:
        locked.save(update_fields=list(changes))
        audit_record(actor=actor, action="update", obj=locked, changes=changes)
    return locked


def trigger_save(
    *, actor: User | None, trigger: Trigger | None, survey: Survey, **values: Any
) -> Trigger:
    """Create a trigger for ``survey`` or change ``trigger`` (then also its survey)."""
    clean = trigger_rules_check(values)
    if trigger is None:
        return trigger_create(actor=actor, survey=survey, **clean)
    with transaction.atomic():
        if trigger.survey_id != survey.pk:
            Trigger.objects.filter(pk=trigger.pk).update(survey=survey)
            audit_record(
                actor=actor,
                action="update",
                obj=trigger,
                changes={"survey": [trigger.survey_id, survey.pk]},
            )
            trigger.survey = survey
        return trigger_update(actor=actor, trigger=trigger, **clean)
