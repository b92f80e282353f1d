"""Campaign pages (staff) and the public pages (signup with double opt-in, unsubscribe)."""

from __future__ import annotations

import csv
import json
from functools import cache
from typing import Any

import plotly
import plotly.graph_objects as go
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stammkunde.core.access import User
from stammkunde.core.audit import audit_read
from stammkunde.core.charts import chart_scripts, figure_html
from stammkunde.core.errors import ApplicationError, ConflictError
from stammkunde.core.forms import form_errors_apply
from stammkunde.core.roles import has_role

from . import selectors, services
from .evaluation import evaluation_reason_text
from .exports import csv_cell
from .forms import CampaignForm, SegmentForm, SignupForm
from .models import CAMPAIGN_ROLES, Campaign, CampaignContact


def may_see_campaigns(user: User) -> bool:
    """Marketing, analysts, team leads and admins see campaigns."""
    return has_role(user, *CAMPAIGN_ROLES)


def _require_view(request: HttpRequest) -> None:
    if not may_see_campaigns(request.user):
        raise PermissionDenied


def _require_change(request: HttpRequest) -> None:
    if not request.user.has_perm("campaigns.change_campaign"):
        raise PermissionDenied


def _campaign_for(request: HttpRequest, pk: int, *, change: bool = False) -> Campaign:
    """The campaign ``pk`` for a user who may see campaigns (and change them, with ``change``)."""
    _require_view(request)
    if change:
        _require_change(request)
    return selectors.campaign_get(user=request.user, pk=pk)


# ------------------------------------------------------------------- plotly


@cache
def _plotly_js() -> bytes:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode()


@require_GET
@cache_control(public=True, max_age=31_536_000, immutable=True)
def plotly_js_view(request: HttpRequest) -> HttpResponse:
    """Serve plotly's JS from the installed Python package (no CDN, nothing copied)."""
    return HttpResponse(_plotly_js(), content_type="application/javascript; charset=utf-8")


def _plotly_script() -> SafeString:
    return chart_scripts(f"{reverse('campaigns:plotly_js')}?v={plotly.__version__}")


def _html(fig: go.Figure) -> SafeString:
    fig.update_layout(
        margin={"l": 50, "r": 20, "t": 40, "b": 40}, height=320, template="plotly_white"
    )
    return figure_html(fig, config={"displaylogo": False, "responsive": True})


def _charts(evaluation: Any) -> dict[str, SafeString]:
    charts: dict[str, SafeString] = {}
    if evaluation is None:
        return charts
    curve = evaluation.curves.get("revenue")
    if curve:
        days = curve["day"]
        charts["cumulative"] = _html(
            go.Figure(
                [
                    go.Scatter(
                        x=days,
                        y=curve["high"],
                        mode="lines",
                        line={"width": 0},
                        showlegend=False,
                        hoverinfo="skip",
                    ),
                    go.Scatter(
                        x=days,
                        y=curve["low"],
                        mode="lines",
                        line={"width": 0},
                        fill="tonexty",
                        fillcolor="rgba(11,110,79,0.15)",
                        name=_("95 % interval"),
                    ),
                    go.Scatter(
                        x=days,
                        y=curve["effect"],
                        mode="lines",
                        name=_("effect"),
                        line={"color": "#0b6e4f"},
                    ),
                ],
                layout={
                    "title": _("Cumulative effect: revenue per customer (EUR)"),
                    "xaxis_title": _("days after contact"),
                    "yaxis_title": _("treatment − control"),
                },
            )
        )
        charts["groups"] = _html(
            go.Figure(
                [
                    go.Scatter(
                        x=days,
                        y=curve["treatment"],
                        mode="lines",
                        name=_("treatment"),
                        line={"color": "#0b6e4f"},
                    ),
                    go.Scatter(
                        x=days,
                        y=curve["control"],
                        mode="lines",
                        name=_("control"),
                        line={"color": "#5b6b7c", "dash": "dot"},
                    ),
                ],
                layout={
                    "title": _("Treatment vs control: cumulative revenue per customer"),
                    "xaxis_title": _("days after contact"),
                    "yaxis_title": "EUR",
                },
            )
        )
    qini = evaluation.curves.get("qini")
    if qini:
        charts["qini"] = _html(
            go.Figure(
                [
                    go.Scatter(
                        x=qini["x"],
                        y=qini["y"],
                        mode="lines",
                        name=_("uplift model"),
                        line={"color": "#b54708"},
                    ),
                    go.Scatter(
                        x=[0, 1],
                        y=[0, qini["y"][-1]],
                        mode="lines",
                        name=_("random"),
                        line={"color": "#999", "dash": "dot"},
                    ),
                ],
                layout={
                    "title": _("Qini curve (out-of-fold)"),
                    "xaxis_title": _("share of customers targeted"),
                    "yaxis_title": _("incremental buyers"),
                },
            )
        )
    return charts


# ---------------------------------------------------------------- campaigns


@login_required
def campaign_list_view(request: HttpRequest) -> HttpResponse:
    """Playbooks per phase (switch on/off) and the campaigns."""
    _require_view(request)
    campaigns = list(selectors.campaign_list(user=request.user))
    return render(
        request,
        "campaigns/list.html",
        {
            "playbooks": [c for c in campaigns if c.playbook_phase],
            "campaigns": [c for c in campaigns if not c.playbook_phase],
            "can_change": request.user.has_perm("campaigns.change_campaign"),
        },
    )


@login_required
def campaign_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The campaign's dashboard: contacts, evaluation with ROI and advice, charts.

    While a send runs, htmx polls ``?part=send`` for its progress bar; once the
    send is over, that answer reloads the page (its figures changed).
    """
    campaign = _campaign_for(request, pk)
    send_job = selectors.campaign_send_job(campaign)
    if getattr(request, "htmx", False) and request.GET.get("part") == "send":
        response = render(
            request, "campaigns/_send_job.html", {"campaign": campaign, "send_job": send_job}
        )
        if send_job is None or not send_job["active"]:
            job = send_job["job"] if send_job else None
            if job is not None and job.status == "done" and isinstance(job.result, dict):
                messages.success(
                    request,
                    _("%(t)s contacted, %(c)s held out as control.")
                    % {"t": job.result.get("treatment", 0), "c": job.result.get("control", 0)},
                )
            response["HX-Refresh"] = "true"
        return response
    evaluation = selectors.evaluation_latest(campaign=campaign)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "contacts": selectors.campaign_contacts_summary(campaign),
            "runs": list(campaign.runs.all()[:10]),
            "call_tasks": (
                selectors.campaign_call_tasks(campaign)
                if campaign.channel == Campaign.Channel.PHONE
                else []
            ),
            "evaluation": evaluation,
            "effects": (evaluation.summary.get("effects", {}) if evaluation else {}),
            "evaluation_reason": (evaluation_reason_text(evaluation.summary) if evaluation else ""),
            "charts": _charts(evaluation),
            "plotly_script": _plotly_script(),
            "reason_labels": selectors.REASON_LABELS,
            "can_change": request.user.has_perm("campaigns.change_campaign"),
            "send_job": send_job,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or edit a campaign or playbook."""
    _require_view(request)
    _require_change(request)
    campaign = selectors.campaign_get(user=request.user, pk=pk) if pk else None
    segments = selectors.segment_list(user=request.user)
    form = CampaignForm(request.POST or None, instance=campaign, segments=segments)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in form.Meta.fields}
        try:
            if campaign is None:
                campaign = services.campaign_create(actor=request.user, data=data)
            else:
                campaign = services.campaign_update(
                    actor=request.user, campaign=campaign, data=data
                )
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign})


def _preview_page(
    request: HttpRequest, campaign: Campaign, action: str, *, status: int = 200, stale: bool = False
) -> HttpResponse:
    preview = selectors.campaign_preview(campaign, user=request.user, action=action)
    audit_read(request, [row["customer"].pk for row in preview.sample])  # sample shows names
    return render(
        request,
        "campaigns/preview.html",
        {
            "campaign": campaign,
            "preview": preview,
            "stale": stale,
            "next": _safe_next(request),
            "user_email": getattr(request.user, "email", ""),
        },
        status=status,
    )


def _safe_next(request: HttpRequest) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if ok else ""


@login_required
@require_GET
def campaign_preview_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Who a send (``?action=run``) or switch-on (``?action=activate``) reaches; acts never."""
    campaign = _campaign_for(request, pk, change=True)
    return _preview_page(request, campaign, request.GET.get("action", "run"))


@login_required
@require_POST
def campaign_status_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch a campaign or playbook on (after its preview is confirmed), pause or finish it."""
    campaign = _campaign_for(request, pk, change=True)
    status = request.POST.get("status", "")
    confirm = request.POST.get("confirm", "")
    if status == Campaign.Status.ACTIVE and not confirm:
        query = urlencode({"action": "activate", "next": _safe_next(request)})
        return redirect(f"{reverse('campaigns:preview', args=[pk])}?{query}")
    try:
        services.campaign_status_set(
            actor=request.user, campaign=campaign, status=status, confirm=confirm or None
        )
    except ConflictError as exc:
        messages.error(request, exc.message)
        return _preview_page(request, campaign, "activate", status=409, stale=True)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Status changed."))
    return redirect(_safe_next(request) or reverse("campaigns:detail", args=[pk]))


@login_required
@require_POST
def campaign_run_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the campaign now, as its confirmed preview says; without confirmation: the preview.

    The send runs as the job ``campaigns.send`` (never in this request); the
    campaign page shows its progress.
    """
    campaign = _campaign_for(request, pk, change=True)
    confirm = request.POST.get("confirm", "")
    if not confirm:
        return redirect(f"{reverse('campaigns:preview', args=[pk])}?action=run")
    try:
        job = services.campaign_send_start(actor=request.user, campaign=campaign, confirm=confirm)
    except ConflictError as exc:
        messages.error(request, exc.message)
        return _preview_page(request, campaign, "run", status=409, stale=True)
    except ApplicationError as exc:
        messages.error(request, _job_refusal(exc))
    else:
        if getattr(job, "deduplicated", False):
            messages.info(request, _("This campaign is being sent already; here is its progress."))
        else:
            messages.success(
                request, _("The campaign is being sent in the background; its progress shows here.")
            )
    return redirect("campaigns:detail", pk=pk)


def _job_refusal(exc: ApplicationError) -> str:
    """The message for a send that could not start (the job runner's own words)."""
    if exc.code == "broker_unavailable":
        return _(
            "The job queue is not reachable, so the job could not be started. "
            "It has been recorded and can be retried from the jobs page."
        )
    return exc.message


@login_required
@require_POST
def campaign_test_send_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the campaign mail to the logged-in user only, marked as a test."""
    campaign = _campaign_for(request, pk, change=True)
    try:
        outbox = services.campaign_test_send(actor=request.user, campaign=campaign)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Test mail to %(to)s: %(state)s") % {"to": outbox.to, "state": outbox.delivery_label},
        )
    action = request.POST.get("action", "run")
    return redirect(f"{reverse('campaigns:preview', args=[pk])}?action={action}")


@login_required
@require_POST
def campaign_evaluate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Evaluate the campaign now (the daily job does it by itself after the horizon)."""
    campaign = _campaign_for(request, pk)
    if not request.user.has_perm("campaigns.add_campaignevaluation"):
        raise PermissionDenied
    services.campaign_evaluate(campaign=campaign)
    return redirect("campaigns:detail", pk=pk)


EXPORT_HEADER = [
    "customer_number",
    "group",
    "status",
    "channel",
    "contacted_at",
    "sent_at",
    "cost",
    "voucher_code",
    "reason",
]


@login_required
@require_GET
def campaign_export_view(request: HttpRequest, pk: int) -> HttpResponse:
    """CSV of the contact log (treatment and control), safe to open in a spreadsheet."""
    campaign = _campaign_for(request, pk)
    rows = (
        campaign.contacts.select_related("customer")
        .order_by("id")
        .values_list(
            "customer__number",
            "group",
            "status",
            "channel",
            "contacted_at",
            "sent_at",
            "cost",
            "voucher_code",
            "reason",
        )
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(EXPORT_HEADER)
    for row in rows.iterator(chunk_size=5000):
        writer.writerow([csv_cell(v) for v in row])
    return response


@login_required
@require_GET
def campaign_letters_view(request: HttpRequest, pk: int, fmt: str = "html") -> HttpResponse:
    """The letter batch: print-ready HTML (one page per letter) or CSV for a mail house."""
    campaign = _campaign_for(request, pk)
    contacts = list(
        campaign.contacts.filter(
            group=CampaignContact.Group.TREATMENT,
            channel=Campaign.Channel.LETTER,
            status=CampaignContact.Status.SENT,
        )
        .select_related("customer")
        .prefetch_related("customer__addresses")
        .order_by("id")
    )
    letters: list[dict[str, Any]] = []
    for contact in contacts:
        customer = contact.customer
        address = next(iter(customer.addresses.all()), None)
        body = services.campaign_text_render(text=campaign.body, contact=contact, campaign=campaign)
        letters.append({"contact": contact, "customer": customer, "address": address, "body": body})
    audit_read(request, [c.customer_id for c in contacts])  # names and addresses, html or csv
    if fmt == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="letters-{campaign.pk}.csv"'
        writer = csv.writer(response)
        writer.writerow(
            [
                "customer_number",
                "salutation",
                "first_name",
                "last_name",
                "company",
                "street",
                "postal_code",
                "city",
                "country",
                "voucher_code",
            ]
        )
        for letter in letters:
            c, a = letter["customer"], letter["address"]
            writer.writerow(
                [
                    csv_cell(v)
                    for v in (
                        c.number,
                        c.salutation,
                        c.first_name,
                        c.last_name,
                        c.company_name,
                        a.street if a else "",
                        a.postal_code if a else "",
                        a.city if a else "",
                        a.country if a else "",
                        letter["contact"].voucher_code,
                    )
                ]
            )
        return response
    return render(request, "campaigns/letters.html", {"campaign": campaign, "letters": letters})


# ------------------------------------------------------------------ segments


@login_required
def segment_list_view(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    return render(
        request,
        "campaigns/segments.html",
        {
            "segments": selectors.segment_list(user=request.user),
            "can_change": request.user.has_perm("campaigns.change_segment"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def segment_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or edit a segment; the count updates live while the rules are edited (htmx)."""
    _require_view(request)
    if not request.user.has_perm("campaigns.change_segment"):
        raise PermissionDenied
    segment = selectors.segment_get(user=request.user, pk=pk) if pk else None
    initial = (
        {
            "name": segment.name,
            "description": segment.description,
            "mode": segment.mode,
            "rules": json.dumps(segment.rules, indent=2, ensure_ascii=False),
        }
        if segment
        else None
    )
    form = SegmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            segment = services.segment_save(
                actor=request.user, segment=segment, **form.cleaned_data
            )
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, _("Segment saved."))
            return redirect("campaigns:segments")
    from .segments import FIELDS

    return render(
        request,
        "campaigns/segment_form.html",
        {"form": form, "segment": segment, "fields": FIELDS, "builder": _builder_spec()},
    )


def _builder_spec() -> dict[str, Any]:
    """Fields, operators and words of the visual segment builder (German through gettext)."""
    from .segments import FIELDS

    return {
        "fields": {
            name: {"kind": spec.kind, "label": _(spec.label), "windowed": spec.windowed}
            for name, spec in FIELDS.items()
        },
        "ops": {
            "eq": _("equals"),
            "ne": _("does not equal"),
            "gt": _("greater than"),
            "gte": _("at least"),
            "lt": _("less than"),
            "lte": _("at most"),
            "in": _("is one of"),
            "not_in": _("is none of"),
            "is": _("is"),
        },
        "text": {
            "all": _("all of these apply (and)"),
            "any": _("at least one applies (or)"),
            "not": _("not"),
            "add_condition": _("+ condition"),
            "add_group": _("+ group"),
            "remove": _("remove"),
            "value": _("value"),
            "within": _("within days"),
            "yes": _("yes"),
            "no": _("no"),
        },
    }


@login_required
@require_POST
def segment_count_view(request: HttpRequest) -> HttpResponse:
    """Return the live count of the rules being edited (an htmx fragment)."""
    _require_view(request)
    try:
        rules = json.loads(request.POST.get("rules") or "{}")
        count: int | None = selectors.segment_count(rules=rules)
        error = ""
    except (json.JSONDecodeError, ApplicationError) as exc:
        count, error = None, getattr(exc, "message", str(exc))
    return render(request, "campaigns/_segment_count.html", {"count": count, "error": error})


# -------------------------------------------------------------- public pages


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@require_http_methods(["GET", "POST"])
def signup_view(request: HttpRequest) -> HttpResponse:
    """Public signup for offers by email: the first step of the double opt-in."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.doi_request_create(
                email=form.cleaned_data["email"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                ip=_client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            return render(request, "campaigns/signup_sent.html")
    return render(request, "campaigns/signup.html", {"form": form})


_DOI_STATUS = {"expired": 410, "invalid": 400}


@require_http_methods(["GET", "POST"])
def signup_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm the signup once; GET only shows a button (mail scanners open links).

    A used link shows "already confirmed", an old or changed one a page that
    says so, both without a button.
    """
    template = "campaigns/signup_confirm.html"
    if request.method == "POST":
        try:
            confirmation = services.doi_confirm(
                token=token,
                ip=_client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except ApplicationError as exc:
            state = "expired" if exc.code == "expired" else "invalid"
            return render(request, template, {"state": state}, status=_DOI_STATUS[state])
        state = "confirmed" if confirmation.already else "done"
        return render(request, template, {"state": state})
    state = services.doi_link_state(token=token)
    return render(
        request, template, {"state": state, "token": token}, status=_DOI_STATUS.get(state, 200)
    )


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without a session or CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """Withdraw marketing email consent: a button (GET) or one-click POST (RFC 8058).

    A link used again says "already withdrawn" instead of recording anything.
    """
    if selectors.unsubscribe_state(token) == "withdrawn":
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse(
                _("Already unsubscribed."), content_type="text/plain; charset=utf-8"
            )
        return render(request, "campaigns/unsubscribe.html", {"already": True})
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        try:
            services.contact_unsubscribe(
                token=token,
                source="one-click List-Unsubscribe" if one_click else "unsubscribe link",
            )
        except ApplicationError as exc:
            return render(request, "campaigns/unsubscribe.html", {"error": exc.message}, status=400)
        if one_click:
            return HttpResponse(_("Unsubscribed."), content_type="text/plain; charset=utf-8")
        return render(request, "campaigns/unsubscribe.html", {"done": True})
    return render(request, "campaigns/unsubscribe.html", {"token": token})
