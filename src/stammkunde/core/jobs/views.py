"""The jobs page (admins): schedule, running jobs with progress, history, failures."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stammkunde.core.errors import ApplicationError
from stammkunde.core.roles import ADMIN, has_role

from . import selectors, services
from .models import Job
from .registry import kind_get, kinds_all


def _require_admin(request: HttpRequest) -> None:
    if not has_role(request.user, ADMIN):
        raise PermissionDenied


def _startable() -> list[dict[str, Any]]:
    rows = []
    for kind in kinds_all():
        if not kind.startable:
            continue
        choices = None
        if kind.start_param is not None:
            choices = kind.start_param.choices()
        rows.append({"kind": kind, "param": kind.start_param, "choices": choices})
    return rows


@login_required
def jobs_view(request: HttpRequest) -> HttpResponse:
    """Schedule with next/last run, running jobs, failures to acknowledge, history."""
    _require_admin(request)
    kind_filter = request.GET.get("kind") or None
    status_filter = request.GET.get("status") or None
    history = Paginator(selectors.jobs_history(kind=kind_filter, status=status_filter), 50)
    context = {
        "schedule": selectors.schedule_overview(),
        "running": _with_progress(selectors.jobs_running()[:50]),
        "failed": selectors.jobs_failed_open()[:20],
        "history": history.get_page(request.GET.get("page")),
        "startable": _startable(),
        "kinds": kinds_all(),
        "statuses": Job.Status.choices,
        "kind_filter": kind_filter or "",
        "status_filter": status_filter or "",
    }
    return render(request, "jobs/list.html", context)


def _with_progress(jobs: Any) -> list[dict[str, Any]]:
    return [{"job": j, "progress": selectors.job_progress(j)} for j in jobs]


@login_required
def running_view(request: HttpRequest) -> HttpResponse:
    """The running-jobs table alone (htmx refreshes it while jobs run)."""
    _require_admin(request)
    return render(
        request,
        "jobs/_running.html",
        {"running": _with_progress(selectors.jobs_running()[:50])},
    )


@login_required
def job_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One job: live progress while it runs, then its result or its error and traceback."""
    _require_admin(request)
    job = get_object_or_404(Job.objects.select_related("started_by", "retry_of"), pk=pk)
    context = {
        "job": job,
        "progress": selectors.job_progress(job),
        "label": selectors.kind_label(job.kind),
    }
    if getattr(request, "htmx", False):
        return render(request, "jobs/_status.html", context)
    return render(request, "jobs/detail.html", context)


@login_required
@require_POST
def start_view(request: HttpRequest) -> HttpResponse:
    """Start a startable kind (with its one parameter, if it has one) and show its progress."""
    _require_admin(request)
    name = request.POST.get("kind", "")
    try:
        kind = kind_get(name)
    except KeyError:
        kind = None
    if kind is None or not kind.startable:
        messages.error(request, _("This job cannot be started here."))
        return redirect("jobs:list")
    params: dict[str, Any] = {}
    if kind.start_param is not None:
        value = request.POST.get(kind.start_param.name, "")
        allowed = {str(v) for v, _label in kind.start_param.choices()}
        if value not in allowed:
            messages.error(request, _("Choose what the job should work on."))
            return redirect("jobs:list")
        params[kind.start_param.name] = kind.start_param.convert(value)
    try:
        job = services.job_start_checked(
            kind=kind.name, params=params, user=request.user, trigger=Job.Trigger.USER
        )
    except ApplicationError as exc:
        messages.error(request, _broker_message(exc))
        return redirect("jobs:list")
    if getattr(job, "deduplicated", False):
        messages.info(request, _("This job is running already; here is its progress."))
    return redirect("jobs:detail", pk=job.pk)


def _broker_message(exc: ApplicationError) -> str:
    if exc.code == "broker_unavailable":
        return _(
            "The job queue is not reachable, so the job could not be started. "
            "It has been recorded and can be retried from the jobs page."
        )
    return _("The job could not be started: %(reason)s") % {"reason": exc.message}


@login_required
@require_POST
def retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a failed or unsent job again."""
    _require_admin(request)
    job = get_object_or_404(Job, pk=pk)
    try:
        new = services.job_retry(job=job, user=request.user)
    except ApplicationError as exc:
        messages.error(request, _broker_message(exc))
        return redirect("jobs:detail", pk=job.pk)
    assert new is not None
    if new.status == Job.Status.NOT_SENT:
        messages.error(request, _broker_message(ApplicationError("", code="broker_unavailable")))
    return redirect("jobs:detail", pk=new.pk)


@login_required
@require_POST
def acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one failed job as seen."""
    _require_admin(request)
    job = get_object_or_404(Job, pk=pk)
    services.job_acknowledge(job=job, user=request.user)
    if request.POST.get("next") == "detail":
        return redirect("jobs:detail", pk=job.pk)
    return redirect("jobs:list")


@login_required
@require_POST
def acknowledge_all_view(request: HttpRequest) -> HttpResponse:
    """Mark every failed job as seen."""
    _require_admin(request)
    count = services.jobs_acknowledge_all(user=request.user)
    messages.success(request, _("%(count)d failed jobs acknowledged.") % {"count": count})
    return redirect("jobs:list")
