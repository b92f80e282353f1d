"""How a schedule row reads on the jobs page: "every 5 minutes", "daily at 02:30"."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


def _every(seconds: int) -> str:
    if seconds % 86400 == 0:
        n = seconds // 86400
        return ngettext("daily", "every %(n)d days", n) % {"n": n}
    if seconds % 3600 == 0:
        n = seconds // 3600
        return ngettext("hourly", "every %(n)d hours", n) % {"n": n}
    if seconds % 60 == 0:
        n = seconds // 60
        return ngettext("every minute", "every %(n)d minutes", n) % {"n": n}
    return ngettext("every second", "every %(n)d seconds", seconds) % {"n": seconds}


def _daily_time(crontab: Any) -> str | None:
    """HH:MM when the crontab names one minute and one hour, else None."""
    minute, hour = str(crontab.minute), str(crontab.hour)
    if minute.isdigit() and hour.isdigit():
        return f"{int(hour):02d}:{int(minute):02d}"
    return None


@register.filter
def schedule_text(task: Any) -> str:
    """A person's reading of a django-celery-beat row (interval or simple crontab)."""
    interval = getattr(task, "interval", None)
    if interval is not None:
        factor = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}.get(interval.period, 0)
        if factor:
            return _every(interval.every * factor)
    crontab = getattr(task, "crontab", None)
    if crontab is not None:
        at = _daily_time(crontab)
        plain = all(
            str(getattr(crontab, f)) == "*"
            for f in ("day_of_week", "day_of_month", "month_of_year")
        )
        if at and plain:
            return _("daily at %(time)s") % {"time": at}
        if at and str(crontab.day_of_month) == "*" and str(crontab.month_of_year) == "*":
            return _("at %(time)s on weekdays %(days)s") % {
                "time": at,
                "days": crontab.day_of_week,
            }
        return _("crontab %(spec)s") % {
            "spec": f"{crontab.minute} {crontab.hour} {crontab.day_of_month} "
            f"{crontab.month_of_year} {crontab.day_of_week}"
        }
    return str(task.scheduler or "")
