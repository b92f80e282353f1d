"""Pages of the privacy desk: requests with deadlines, exports, erasure, retention."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stammkunde.core.audit import audit_read
from stammkunde.core.errors import ApplicationError
from stammkunde.core.forms import form_errors_apply
from stammkunde.customers import selectors as customers_selectors
from stammkunde.customers.models import Customer

from . import selectors, services
from .forms import ExtendForm, IdentityForm, RequestForm, RetentionForm
from .models import PrivacyRequest, RetentionPeriod
from .records import processing_records


def _staff(request: HttpRequest) -> None:
    if not selectors.privacy_staff(request.user):
        raise PermissionDenied


def _approver(request: HttpRequest) -> None:
    if not selectors.privacy_approver(request.user):
        raise PermissionDenied


@login_required
def request_list_view(request: HttpRequest) -> HttpResponse:
    """Open requests, nearest deadline first, with a warning before the deadline."""
    _staff(request)
    state = request.GET.get("state", "open")
    state = state if state in ("open", "done", "all") else "open"
    today = timezone.localdate()
    rows = [
        {"request": r, "state": selectors.deadline_state(r, today=today)}
        for r in selectors.request_list(user=request.user, state=state)[:200]
    ]
    return render(request, "privacy/list.html", {"rows": rows, "state": state})


def _customer_by_ref(user: Any, ref: str) -> Customer | None:
    ref = ref.strip()
    qs = Customer.objects.visible_to(user)
    if ref.isdigit():
        return qs.filter(pk=int(ref)).first()
    return qs.filter(number=ref.upper()).first()


@login_required
def request_create_view(request: HttpRequest) -> HttpResponse:
    _staff(request)
    form = RequestForm(
        request.POST or None,
        initial={"received_on": timezone.localdate(), "customer": request.GET.get("customer", "")},
    )
    if request.method == "POST" and form.is_valid():
        customer = _customer_by_ref(request.user, form.cleaned_data["customer"])
        if customer is None:
            form.add_error("customer", _("No customer with this number."))
        else:
            data = {k: v for k, v in form.cleaned_data.items() if k != "customer"}
            try:
                created = services.request_open(actor=request.user, customer=customer, **data)
            except ApplicationError as exc:
                form_errors_apply(form, exc)
            else:
                messages.success(request, _("Request %(n)s opened.") % {"n": created.number})
                return redirect("privacy:detail", created.pk)
    return render(request, "privacy/form.html", {"form": form})


@login_required
def request_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    req = selectors.request_get(user=request.user, pk=pk)
    audit_read(request, [req.customer_id])
    user = request.user
    return render(
        request,
        "privacy/detail.html",
        {
            "req": req,
            "state": selectors.deadline_state(req),
            "exports": selectors.exports_of(user=user, request=req),
            "identity_form": IdentityForm(),
            "extend_form": ExtendForm(),
            "is_approver": selectors.privacy_approver(user),
            "can_export": req.is_open
            and req.kind in (PrivacyRequest.Kind.ACCESS, PrivacyRequest.Kind.PORTABILITY),
            "can_submit_erasure": req.kind == PrivacyRequest.Kind.ERASURE
            and req.status == PrivacyRequest.Status.OPEN,
            "can_approve": req.status == PrivacyRequest.Status.AWAITING_APPROVAL
            and selectors.privacy_approver(user)
            and req.erasure_requested_by_id != user.pk,
            "kept": (req.result or {}).get("kept", {}),
        },
    )


def _run(request: HttpRequest, pk: int, action: Any, success: str) -> HttpResponse:
    """Call one service on the request; show its refusal as a message."""
    req = selectors.request_get(user=request.user, pk=pk)
    try:
        action(req)
    except ApplicationError as exc:
        messages.error(request, _(exc.message))
    else:
        messages.success(request, success)
    return redirect("privacy:detail", req.pk)


@login_required
@require_POST
def request_identity_view(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    method = request.POST.get("identity_method", "")
    return _run(
        request,
        pk,
        lambda r: services.request_identity_confirm(actor=request.user, request=r, method=method),
        _("Identity check recorded."),
    )


@login_required
@require_POST
def request_extend_view(request: HttpRequest, pk: int) -> HttpResponse:
    _approver(request)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a date and a reason for the extension."))
        return redirect("privacy:detail", pk)
    return _run(
        request,
        pk,
        lambda r: services.request_extend(actor=request.user, request=r, **form.cleaned_data),
        _("Deadline extended."),
    )


@login_required
@require_POST
def export_start_view(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    language = request.POST.get("language", "de")
    return _run(
        request,
        pk,
        lambda r: services.export_start(
            actor=request.user, customer=r.customer, request=r, language=language
        ),
        _("The export is being produced."),
    )


@login_required
@require_POST
def erasure_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    return _run(
        request,
        pk,
        lambda r: services.erasure_submit(actor=request.user, request=r),
        _("Erasure submitted; a team lead must approve it."),
    )


@login_required
@require_POST
def erasure_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    _approver(request)
    return _run(
        request,
        pk,
        lambda r: services.erasure_approve(actor=request.user, request=r),
        _("The customer's personal data is erased."),
    )


@login_required
@require_POST
def request_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    status = request.POST.get("status", "")
    note = request.POST.get("note", "")
    return _run(
        request,
        pk,
        lambda r: services.request_close(actor=request.user, request=r, status=status, note=note),
        _("Request closed."),
    )


@login_required
def export_progress_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The export row, polled by htmx while the job runs."""
    _staff(request)
    export = selectors.export_get(user=request.user, pk=pk)
    return render(request, "privacy/_export.html", {"export": export})


@login_required
def export_download_view(request: HttpRequest, pk: int, which: str) -> FileResponse:
    """Hand out one export file once; it is deleted as it is handed out."""
    _staff(request)
    export = selectors.export_get(user=request.user, pk=pk)
    try:
        path = services.export_downloaded(actor=request.user, export=export, which=which)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    handle = path.open("rb")  # the open handle keeps the bytes readable after the unlink
    services.export_file_delete(export, which=which)
    audit_read(request, [export.customer_id])
    return FileResponse(handle, as_attachment=True, filename=path.name)


@login_required
@require_POST
def consent_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One click on the customer page withdraws a consent (objection, Art. 21)."""
    _staff(request)
    customer = customers_selectors.customer_get(user=request.user, pk=pk)
    try:
        done = services.consent_withdraw(
            actor=request.user,
            customer=customer,
            purpose=request.POST.get("purpose", ""),
            channel=request.POST.get("channel", ""),
        )
    except ApplicationError as exc:
        messages.error(request, _(exc.message))
    else:
        messages.success(
            request, _("Consent withdrawn.") if done else _("This consent was already withdrawn.")
        )
    return redirect(customer)


@login_required
def retention_view(request: HttpRequest) -> HttpResponse:
    """Retention periods (team leads, admins) with a dry run of what would go now."""
    _approver(request)
    form = RetentionForm(request.POST or None, initial_days=selectors.retention_days())
    if request.method == "POST" and form.is_valid():
        try:
            services.retention_set(actor=request.user, days=form.cleaned_data)
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, _("Retention periods saved."))
            return redirect("privacy:retention")
    dry_run = services.retention_apply(dry_run=True) if request.GET.get("dry_run") else None
    labels = dict(RetentionPeriod.Kind.choices)
    return render(
        request,
        "privacy/retention.html",
        {
            "form": form,
            "dry_run": [(labels[k], n) for k, n in dry_run.items()] if dry_run else None,
        },
    )


@login_required
def records_view(request: HttpRequest) -> HttpResponse:
    """Records of processing activities (Art. 30): what is held, why, for how long."""
    _staff(request)
    return render(request, "privacy/records.html", {"records": processing_records()})
