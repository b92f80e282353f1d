"""Reads for the settings page: calendars, queues, SLA policies and reply templates."""

from __future__ import annotations

from datetime import date
from typing import Any

import holidays
from django.db.models import QuerySet

from .models import BusinessCalendar, Priority, Queue, ReplyTemplate, SLAPolicy, Team


def calendars_list() -> QuerySet[BusinessCalendar]:
    """Every business calendar, by name."""
    return BusinessCalendar.objects.order_by("name")


def calendar_get(pk: Any) -> BusinessCalendar | None:
    """The calendar ``pk`` or None."""
    return BusinessCalendar.objects.filter(pk=pk).first()


def holidays_of(*, state: str, year: int, language: str = "de") -> list[tuple[date, str]]:
    """The public holidays of a German state in ``year``, with their names, in order."""
    if not state:
        return []
    names = holidays.country_holidays(
        "DE", subdiv=state, years=[year], language="de" if language == "de" else "en_US"
    )
    return sorted(names.items())


def queues_list() -> QuerySet[Queue]:
    """Every queue with its calendar, partner and members, by name."""
    return (
        Queue.objects.select_related("calendar", "partner", "team")
        .prefetch_related("members")
        .order_by("name")
    )


def queue_get(pk: Any) -> Queue | None:
    """The queue ``pk`` or None."""
    return queues_list().filter(pk=pk).first()


def teams_list() -> QuerySet[Team]:
    """Every team, by name."""
    return Team.objects.order_by("name")


def sla_policies_list() -> QuerySet[SLAPolicy]:
    """Every SLA policy with its queue, by name."""
    return SLAPolicy.objects.select_related("queue").order_by("name", "pk")


def sla_policy_get(pk: Any) -> SLAPolicy | None:
    """The SLA policy ``pk`` or None."""
    return sla_policies_list().filter(pk=pk).first()


def priority_choices() -> list[tuple[str, str]]:
    """The ticket priorities as (value, label)."""
    return [(value, str(label)) for value, label in Priority.choices]


def reply_templates_list() -> QuerySet[ReplyTemplate]:
    """Every reply template (inactive ones too), by name and language."""
    return ReplyTemplate.objects.order_by("name", "language")


def reply_template_get(pk: Any) -> ReplyTemplate | None:
    """The reply template ``pk`` or None."""
    return ReplyTemplate.objects.filter(pk=pk).first()
