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
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stammkunde.core.access import User
from stammkunde.core.errors import ApplicationError
from stammkunde.core.roles import has_role

from . import selectors, services
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


def _form_errors(form: Any, exc: ApplicationError) -> None:
    for field, errors in (exc.field_errors or {"__all__": [exc.message]}).items():
        form.add_error(field if field in form.fields else None, errors)


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
    return format_html(
        '<script src="{}?v={}"></script>', reverse("campaigns:plotly_js"), plotly.__version__
    )


def _html(fig: go.Figure) -> SafeString:
    fig.update_layout(
        margin={"l": 50, "r": 20, "t": 40, "b": 40}, height=320, template="plotly_white"
    )
    # Plotly's own markup and our numbers, no user input: safe to embed.
    return mark_safe(  # noqa: S308
        fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            config={"displaylogo": False, "responsive": True},
        )
    )


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
    """The campaign's dashboard: contacts, evaluation with ROI and advice, charts."""
    _require_view(request)
    campaign = selectors.campaign_get(user=request.user, pk=pk)
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
            "charts": _charts(evaluation),
            "plotly_script": _plotly_script(),
            "reason_labels": selectors.REASON_LABELS,
            "can_change": request.user.has_perm("campaigns.change_campaign"),
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
            _form_errors(form, exc)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign})


@login_required
@require_POST
def campaign_status_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch a campaign or playbook on, pause or finish it."""
    _require_view(request)
    _require_change(request)
    campaign = selectors.campaign_get(user=request.user, pk=pk)
    try:
        services.campaign_status_set(
            actor=request.user, campaign=campaign, status=request.POST.get("status", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Status changed."))
    return redirect(request.POST.get("next") or reverse("campaigns:detail", args=[pk]))


@login_required
@require_POST
def campaign_run_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the campaign now to everyone eligible who has not had it."""
    _require_view(request)
    _require_change(request)
    campaign = selectors.campaign_get(user=request.user, pk=pk)
    try:
        run = services.campaign_run(actor=request.user, campaign=campaign)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(t)s contacted, %(c)s held out as control.")
            % {"t": run.counts.get("treatment", 0), "c": run.counts.get("control", 0)},
        )
    return redirect("campaigns:detail", pk=pk)


@login_required
@require_POST
def campaign_evaluate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Evaluate the campaign now (the daily job does it by itself after the horizon)."""
    _require_view(request)
    campaign = selectors.campaign_get(user=request.user, pk=pk)
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
    _require_view(request)
    campaign = selectors.campaign_get(user=request.user, pk=pk)
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
    _require_view(request)
    campaign = selectors.campaign_get(user=request.user, pk=pk)
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
        values = {
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "voucher_code": contact.voucher_code,
            "points": str(campaign.offer_points),
        }
        try:
            body = campaign.body.format_map(services._Blank(values))
        except (ValueError, IndexError, AttributeError):
            body = campaign.body
        letters.append({"contact": contact, "customer": customer, "address": address, "body": body})
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
            _form_errors(form, exc)
        else:
            messages.success(request, _("Segment saved."))
            return redirect("campaigns:segments")
    from .segments import FIELDS

    return render(
        request, "campaigns/segment_form.html", {"form": form, "segment": segment, "fields": FIELDS}
    )


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
            _form_errors(form, exc)
        else:
            return render(request, "campaigns/signup_sent.html")
    return render(request, "campaigns/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def signup_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm the signup; GET only shows a button (mail scanners open links)."""
    if request.method == "POST":
        try:
            services.doi_confirm(
                token=token,
                ip=_client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except ApplicationError as exc:
            return render(
                request, "campaigns/signup_confirm.html", {"error": exc.message}, status=400
            )
        return render(request, "campaigns/signup_confirm.html", {"done": True})
    return render(request, "campaigns/signup_confirm.html", {"token": token})


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without a session or CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """Withdraw marketing email consent: a button (GET) or one-click POST (RFC 8058)."""
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
