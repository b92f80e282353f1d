"""The registry of job kinds: what each app can run in the background, and how often.

An app declares a kind once, in its ``tasks.py``::

    @job_kind("service.sla_escalate", label=_("SLA escalation"), schedule=Every(minutes=1))
    def sla_escalate_job(ctx: JobContext) -> dict[str, int]:
        ...

The decorator returns a Celery task of the same name (so a worker or beat can
call it), and the kind's function always receives a :class:`JobContext` first,
then the job's parameters as keyword arguments.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from celery import shared_task


@dataclass(frozen=True)
class Every:
    """A fixed interval between runs."""

    seconds: int = 0
    minutes: int = 0
    hours: int = 0

    @property
    def total_seconds(self) -> int:
        return self.seconds + 60 * self.minutes + 3600 * self.hours

    def __str__(self) -> str:
        return f"every {self.total_seconds} s"


@dataclass(frozen=True)
class Cron:
    """A crontab entry (in the project's time zone)."""

    minute: str = "0"
    hour: str = "*"
    day_of_week: str = "*"
    day_of_month: str = "*"
    month_of_year: str = "*"

    def __str__(self) -> str:
        return (
            f"{self.minute} {self.hour} {self.day_of_month} {self.month_of_year} {self.day_of_week}"
        )


Schedule = Every | Cron


class JobContext:
    """What a running job may tell the runner: progress, done of total, a message.

    The base class does nothing, so a kind's function can be called directly
    (tests, a service calling another) without a job row.
    """

    job_id: int | None = None
    user: Any = None
    done: int = 0
    total: int | None = None

    def progress(
        self,
        *,
        done: int | None = None,
        total: int | None = None,
        advance: int = 0,
        message: str | None = None,
    ) -> None:
        """Report progress; ``advance`` adds to what is done."""


@dataclass(frozen=True)
class StartParam:
    """The one parameter an admin picks when starting a kind from the jobs page."""

    name: str
    label: Any
    choices: Callable[[], list[tuple[Any, str]]]
    convert: Callable[[str], Any] = str


@dataclass(frozen=True)
class JobKind:
    """One kind of work. ``record=False`` kinds run without a job row (per-event sends
    whose own rows record attempts); every other run is a :class:`Job` row."""

    name: str
    func: Callable[..., Any]
    label: Any
    schedule: Schedule | None = None
    timeout: timedelta = timedelta(minutes=15)
    record: bool = True
    lock: bool = True
    startable: bool = False
    description: Any = ""
    start_param: StartParam | None = None
    task: Any = field(default=None, compare=False)
    lock_whole_kind: bool = False

    def lock_key(self, params: dict[str, Any]) -> str:
        """The key that keeps two runs with the same parameters from running at once
        (with ``lock_whole_kind``: any two runs of the kind, whatever their parameters)."""
        if not self.lock:
            return ""
        if not params or self.lock_whole_kind:
            return self.name
        import json

        return f"{self.name}:{json.dumps(params, sort_keys=True, default=str)}"[:200]


_KINDS: dict[str, JobKind] = {}
_LOADED = False


def job_kind(
    name: str,
    *,
    label: Any,
    schedule: Schedule | None = None,
    timeout: timedelta = timedelta(minutes=15),
    record: bool = True,
    lock: bool = True,
    startable: bool = False,
    description: Any = "",
    start_param: StartParam | None = None,
    lock_whole_kind: bool = False,
) -> Callable[[Callable[..., Any]], Any]:
    """Register ``func`` as a job kind and return the Celery task that runs it."""

    def register(func: Callable[..., Any]) -> Any:
        def run(_trigger: str = "system", **params: Any) -> Any:
            from .services import run_here

            return run_here(kind_name=name, params=params, trigger=_trigger)

        run.__name__ = func.__name__
        run.__doc__ = func.__doc__
        task = shared_task(name=name, ignore_result=not record)(run)
        _KINDS[name] = JobKind(
            name=name,
            func=func,
            label=label,
            schedule=schedule,
            timeout=timeout,
            record=record,
            lock=lock,
            startable=startable,
            description=description,
            start_param=start_param,
            task=task,
            lock_whole_kind=lock_whole_kind,
        )
        return task

    return register


def kinds_load() -> None:
    """Import every installed Stammkunde app's ``tasks`` module (where kinds are declared)."""
    global _LOADED
    if _LOADED:
        return
    from django.apps import apps

    for config in apps.get_app_configs():
        if config.name.startswith("stammkunde.") and importlib.util.find_spec(
            f"{config.name}.tasks"
        ):
            importlib.import_module(f"{config.name}.tasks")
    _LOADED = True


def kind_get(name: str) -> JobKind:
    """Return the kind called ``name``; KeyError names the known ones."""
    kinds_load()
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(f"unknown job kind {name!r}; known: {', '.join(sorted(_KINDS))}") from None


def kinds_all() -> list[JobKind]:
    """Every registered kind, by name."""
    kinds_load()
    return [_KINDS[n] for n in sorted(_KINDS)]


def kinds_scheduled() -> list[JobKind]:
    """The kinds that run on a schedule."""
    return [k for k in kinds_all() if k.schedule is not None]
