"""Pages of the data tools: imports, duplicates, exports, webhooks."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stammkunde.core.access import access_object
from stammkunde.core.audit import audit_read
from stammkunde.core.errors import ApplicationError
from stammkunde.core.jobs import selectors as jobs_selectors
from stammkunde.core.jobs.services import job_start_checked
from stammkunde.core.roles import roles_of
from stammkunde.customers.selectors import customer_get

from .access import require_import_role
from .forms import ExportForm, ImportForm, WebhookSubscriptionForm
from .models import (
    DuplicatePair,
    ExportJob,
    ImportJob,
    ImportSource,
    WebhookDelivery,
    WebhookSubscription,
)
from .services import background, dedup, exports, import_jobs, merge, webhooks


@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    """The import page: upload form and the latest jobs."""
    require_import_role(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = import_jobs.import_job_create(
                actor=request.user,
                kind=data["kind"],
                file_name=data["file"].name,
                upload=data["file"],
                source_name=data["source"],
                mapping=data["mapping"],
                mode=data["mode"],
                dry_run=data["dry_run"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            try:
                import_jobs.import_job_enqueue(job, user=request.user)
            except background.QueueUnavailable as exc:
                messages.error(request, exc.message)
            return redirect("dataio:job", pk=job.pk)
    context = {
        "form": form,
        "jobs": ImportJob.objects.visible_to(request.user).select_related("source")[:20],
        "sources": ImportSource.objects.visible_to(request.user),
    }
    return render(request, "dataio/home.html", context)


@login_required
def job_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One import: live progress while it runs (htmx polls the progress part), then the report."""
    require_import_role(request.user)
    job = access_object(ImportJob.objects.select_related("source"), request.user, pk=pk)
    context = {
        "job": job,
        "progress": import_jobs.import_job_progress(job),
        "not_sent": background.import_not_sent(job),
    }
    if getattr(request, "htmx", False):
        return render(request, "dataio/_job_status.html", context)
    return render(request, "dataio/job.html", context)


@login_required
@require_POST
def job_start_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Start an import again whose job never reached the job queue (the broker was down)."""
    require_import_role(request.user)
    job = access_object(ImportJob.objects.all(), request.user, pk=pk)
    if background.import_not_sent(job):
        try:
            import_jobs.import_job_enqueue(job, user=request.user)
        except background.QueueUnavailable as exc:
            messages.error(request, exc.message)
    return redirect("dataio:job", pk=job.pk)


@login_required
def job_report_view(request: HttpRequest, pk: int) -> FileResponse:
    """Download the bad rows of an import with their errors (CSV)."""
    require_import_role(request.user)
    job = access_object(ImportJob.objects.all(), request.user, pk=pk)
    if not job.report_path or not Path(job.report_path).exists():
        raise Http404("No report")
    return FileResponse(
        Path(job.report_path).open("rb"),
        as_attachment=True,
        filename=f"{Path(job.file_name).stem}-bad-rows.csv",
        content_type="text/csv",
    )


@login_required
def duplicates_view(request: HttpRequest) -> HttpResponse:
    """Candidate pairs of duplicate customers, best score first; POST starts a scan."""
    require_import_role(request.user)
    if request.method == "POST":
        try:
            job_start_checked(kind="dataio.duplicates_scan", user=request.user)
        except ApplicationError as exc:
            messages.error(request, _(exc.message))
        else:
            messages.success(
                request, _("The duplicate search runs in the background; the list updates here.")
            )
        return redirect("dataio:duplicates")
    scan = jobs_selectors.job_latest(kind="dataio.duplicates_scan")
    running = scan is not None and scan.status in scan.ACTIVE
    context = {
        "scan": scan,
        "scan_running": running,
        "scan_progress": jobs_selectors.job_progress(scan) if running and scan else None,
    }
    if request.headers.get("HX-Request") and request.GET.get("part") == "scan":
        return render(request, "dataio/_duplicates_scan.html", context)
    pairs = (
        DuplicatePair.objects.visible_to(request.user)
        .filter(status=DuplicatePair.Status.OPEN)
        .select_related("customer_a", "customer_b")[:200]
    )
    return render(request, "dataio/duplicates.html", {"pairs": pairs, **context})


@login_required
def merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Preview a merge of a candidate pair (which record stays) and carry it out on POST."""
    require_import_role(request.user)
    pair = access_object(
        DuplicatePair.objects.select_related("customer_a", "customer_b"), request.user, pk=pk
    )
    keep_id = request.POST.get("keep") or request.GET.get("keep") or str(pair.customer_a_id)
    if keep_id not in {str(pair.customer_a_id), str(pair.customer_b_id)}:
        raise Http404("Not found")
    keep = customer_get(user=request.user, pk=keep_id)
    remove_id = pair.customer_b_id if keep.pk == pair.customer_a_id else pair.customer_a_id
    remove = customer_get(user=request.user, pk=remove_id)
    if request.method == "POST" and request.POST.get("action") == "dismiss":
        dedup.duplicate_dismiss(pair=pair)
        messages.success(request, _("Marked as not a duplicate."))
        return redirect("dataio:duplicates")
    if request.method == "POST":
        try:
            merge.customer_merge(actor=request.user, keep=keep, remove=remove)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("%(removed)s was merged into %(kept)s.")
                % {"removed": remove.number, "kept": keep.number},
            )
            return redirect(keep)
    preview = merge.customer_merge_preview(keep=keep, remove=remove)
    audit_read(request, [keep.pk, remove.pk])  # both records' contact data are shown
    return render(request, "dataio/merge.html", {"pair": pair, "preview": preview})


@login_required
def exports_view(request: HttpRequest) -> HttpResponse:
    """Export a filtered list as CSV/xlsx; large lists become a job shown below the form."""
    if not roles_of(request.user):
        raise PermissionDenied
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = exports.export_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                file_format=form.cleaned_data["file_format"],
                filters=form.filters(),
            )
        except background.QueueUnavailable as exc:
            messages.error(request, exc.message)
            return redirect("dataio:exports")
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            if job.status == ExportJob.Status.DONE:
                return redirect("dataio:export_download", pk=job.pk)
            messages.success(request, _("The export runs in the background; it appears below."))
            return redirect("dataio:exports")
    jobs = list(ExportJob.objects.visible_to(request.user)[:20])
    for job in jobs:
        job.not_sent = background.export_not_sent(job)  # type: ignore[attr-defined]
    return render(request, "dataio/exports.html", {"form": form, "jobs": jobs})


@login_required
@require_POST
def export_start_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Start an export again whose job never reached the job queue (the broker was down)."""
    job = access_object(ExportJob.objects.all(), request.user, pk=pk)
    if background.export_not_sent(job):
        try:
            background.export_start(job, user=request.user)
        except background.QueueUnavailable as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The export runs in the background; it appears below."))
    return redirect("dataio:exports")


@login_required
def export_download_view(request: HttpRequest, pk: int) -> FileResponse:
    job = access_object(ExportJob.objects.all(), request.user, pk=pk)
    if (
        job.status != ExportJob.Status.DONE
        or not job.file_path
        or not Path(job.file_path).is_file()
    ):
        raise Http404("Not ready")
    return FileResponse(
        Path(job.file_path).open("rb"), as_attachment=True, filename=Path(job.file_path).name
    )


@login_required
def webhooks_view(request: HttpRequest) -> HttpResponse:
    """Subscriptions and the delivery log; POST adds a subscription."""
    require_import_role(request.user)
    form = WebhookSubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhooks.webhook_subscription_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            for field, errors in (exc.field_errors or {"__all__": [exc.message]}).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Webhook subscription added."))
            return redirect("dataio:webhooks")
    context = {
        "form": form,
        "subscriptions": WebhookSubscription.objects.visible_to(request.user),
        "deliveries": WebhookDelivery.objects.visible_to(request.user).select_related(
            "subscription"
        )[:100],
    }
    return render(request, "dataio/webhooks.html", context)


@login_required
@require_POST
def webhook_resend_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_import_role(request.user)
    delivery = access_object(
        WebhookDelivery.objects.select_related("subscription"), request.user, pk=pk
    )
    webhooks.webhook_resend(actor=request.user, delivery=delivery)
    messages.success(request, _("The event is sent again."))
    return redirect("dataio:webhooks")
