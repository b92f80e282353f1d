"""Loyalty pages: goodwill, self-service, card, reports, programs, the settings section."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stammkunde.core.audit import audit_read
from stammkunde.core.errors import ApplicationError
from stammkunde.core.roles import ADMIN, MARKETING, TEAM_LEAD, has_role, is_internal
from stammkunde.customers.selectors import customer_get

from . import selectors, services
from .forms import (
    GoodwillForm,
    MultiplierFormSet,
    ProgramForm,
    ProgramRulesForm,
    StampCardFormSet,
    TierFormSet,
    TierRuleFormSet,
)
from .models import LoyaltyProgram


def _panel_url(customer_pk: int) -> str:
    return reverse("customers:detail", args=[customer_pk]) + "#panel-loyalty"


@login_required
@require_POST
def enroll_view(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """Give the customer a loyalty card in the active program."""
    customer = customer_get(user=request.user, pk=customer_pk)
    if not request.user.has_perm("loyalty.add_loyaltyaccount"):
        raise PermissionDenied
    try:
        account = services.account_enroll(
            customer=customer,
            actor=request.user,
            referral_code=request.POST.get("referral_code", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Loyalty card %(card)s issued.") % {"card": account.card_number}
        )
    return redirect(_panel_url(customer.pk))


@login_required
@require_POST
def goodwill_view(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """Grant goodwill points or a voucher within the agent's goodwill limit."""
    customer = customer_get(user=request.user, pk=customer_pk)
    if not request.user.has_perm("loyalty.change_loyaltyaccount"):
        raise PermissionDenied
    form = GoodwillForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(str(e) for e in errors)}")
        return redirect(_panel_url(customer.pk))
    v = form.cleaned_data
    try:
        if v["kind"] == "points":
            account = selectors.account_for_customer(customer=customer, user=request.user)
            if account is None:
                raise ApplicationError(_("The customer has no loyalty card yet."))
            booking = services.points_goodwill_grant(
                actor=request.user,
                account=account,
                points=v["points"],
                reason=v["reason"],
                idempotency_key=v["idempotency_key"],
                ticket_id=v["ticket_id"],
            )
            messages.success(
                request, _("%(points)d goodwill points booked.") % {"points": booking.entry.points}
            )
        else:
            voucher = services.voucher_goodwill_issue(
                actor=request.user,
                customer=customer,
                value=v["amount"],
                reason=v["reason"],
                ticket_id=v["ticket_id"],
                idempotency_key=v["idempotency_key"],
            )
            messages.success(request, _("Voucher %(code)s issued.") % {"code": voucher.code})
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(_panel_url(customer.pk))


def _self_service_language(request: HttpRequest, customer_language: str) -> str:
    wanted = request.GET.get("lang", "")
    return wanted if wanted in ("de", "en") else (customer_language or "de")


def _qr_svg(card_number: str) -> str:
    # segno writes a complete inline SVG; the data is the card number only (digits).
    return segno.make(card_number, error="m").svg_inline(scale=6, border=2)


def _private(response: HttpResponse) -> HttpResponse:
    # The token in the URL is the key: keep it out of caches, referrers and search engines.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def self_service_view(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's own page, reached by a signed link without a login (de/en)."""
    view = selectors.account_from_self_service_token(token)
    if view is None:
        raise Http404("Not found")
    account = view["account"]
    language = _self_service_language(request, account.customer.preferred_language)
    with translation.override(language):
        response = render(
            request,
            "loyalty/self_service.html",
            {
                **view,
                "token": token,
                "language": language,
                "qr": mark_safe(_qr_svg(account.card_number)),  # noqa: S308 - segno's own SVG
            },
        )
    return _private(response)


def card_print_view(request: HttpRequest, token: str) -> HttpResponse:
    """A printable card (HTML + SVG; the browser prints it or saves a PDF)."""
    view = selectors.account_from_self_service_token(token)
    if view is None:
        raise Http404("Not found")
    account = view["account"]
    audit_read(request, [account.customer_id])  # the card shows the name (staff opening it)
    language = _self_service_language(request, account.customer.preferred_language)
    with translation.override(language):
        response = render(
            request,
            "loyalty/card_print.html",
            {
                "account": account,
                "language": language,
                "qr": mark_safe(_qr_svg(account.card_number)),  # noqa: S308 - segno's own SVG
            },
        )
    return _private(response)


@login_required
def report_view(request: HttpRequest) -> HttpResponse:
    """Members per tier, points liability, redemption rate, breakage, repeat purchases."""
    if not is_internal(request.user):
        raise PermissionDenied
    report = selectors.loyalty_report(user=request.user)
    can_configure = has_role(request.user, ADMIN, MARKETING, TEAM_LEAD)
    return render(
        request, "loyalty/reports.html", {"report": report, "can_configure": can_configure}
    )


def _may_configure(request: HttpRequest) -> None:
    if not has_role(request.user, ADMIN, MARKETING, TEAM_LEAD):
        raise PermissionDenied


@login_required
def program_list_view(request: HttpRequest) -> HttpResponse:
    _may_configure(request)
    programs = LoyaltyProgram.objects.visible_to(request.user).prefetch_related("tiers")
    return render(request, "loyalty/programs.html", {"programs": programs})


@login_required
def program_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Edit a program with its tiers, category multipliers and stamp cards on one page."""
    _may_configure(request)
    program = (
        get_object_or_404(LoyaltyProgram.objects.visible_to(request.user), pk=pk)
        if pk is not None
        else None
    )
    data = request.POST if request.method == "POST" else None
    form = ProgramForm(data, instance=program)
    formsets: list[Any] = [
        TierFormSet(data, instance=program, prefix="tiers"),
        MultiplierFormSet(data, instance=program, prefix="multipliers"),
        StampCardFormSet(data, instance=program, prefix="stamps"),
    ]
    if data is not None and form.is_valid() and all(f.is_valid() for f in formsets):
        try:
            saved = services.program_configure(
                actor=request.user, program_form=form, formsets=formsets
            )
        except ApplicationError as exc:
            _rules_errors(form, formsets[0].forms, exc)  # tiers.<form index>.<field>
        else:
            messages.success(request, _("Program saved."))
            return redirect("loyalty:program_edit", pk=saved.pk)
    return render(
        request,
        "loyalty/program_form.html",
        {"form": form, "formsets": formsets, "program": program},
    )


# --------------------------------------------------------------------------- settings page
def _may_set_rules(request: HttpRequest) -> None:
    if not selectors.may_set_program_rules(request.user):
        raise PermissionDenied


def _rules_errors(form: Any, rows: list[Any], exc: ApplicationError) -> None:
    """Put a refusal on its field: ``tiers.<n>.<field>`` on the n-th tier row, else on top."""
    for key, errors in (exc.field_errors or {"__all__": [exc.message]}).items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "tiers" and parts[1].isdigit():
            row = rows[int(parts[1])] if int(parts[1]) < len(rows) else None
            if row is not None and parts[2] in row.fields:
                row.add_error(parts[2], errors)
                continue
        form.add_error(key if key in form.fields else None, errors)


@login_required
def rules_list_view(request: HttpRequest) -> HttpResponse:
    """The settings section "Loyalty program": every program with its tiers."""
    _may_set_rules(request)
    programs = selectors.programs_with_tiers(user=request.user)
    return render(request, "loyalty/settings_programs.html", {"programs": programs})


@login_required
def rules_create_view(request: HttpRequest) -> HttpResponse:
    _may_set_rules(request)
    return _rules_form(request, None)


@login_required
def rules_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _may_set_rules(request)
    program = selectors.program_get(user=request.user, pk=pk)
    if program is None:
        raise Http404
    return _rules_form(request, program)


def _rules_form(request: HttpRequest, program: LoyaltyProgram | None) -> HttpResponse:
    """Points per euro, expiry and the tiers on one page, saved together or not at all."""
    data = request.POST if request.method == "POST" else None
    initial: dict[str, Any] = (
        {f: getattr(program, f) for f in services.PROGRAM_RULE_FIELDS}
        if program
        else {
            "active": True,
            "points_per_euro": "1",
            "point_value": "0.01",
            "expiry_years": 3,
            "tier_basis": LoyaltyProgram.TierBasis.SPEND,
        }
    )
    tiers = list(program.tiers.order_by("rank")) if program else []
    form = ProgramRulesForm(data, initial=initial)
    formset = TierRuleFormSet(
        data,
        prefix="tiers",
        initial=[{"id": t.pk, **{f: getattr(t, f) for f in services.TIER_FIELDS}} for t in tiers],
    )
    if data is not None and form.is_valid() and formset.is_valid():
        rows: list[Any] = []
        values: list[dict[str, Any]] = []
        for row in formset.forms:
            cleaned = row.cleaned_data
            if not cleaned or (cleaned.get("DELETE") and not cleaned.get("id")):
                continue  # an empty extra row, or a new row crossed out again
            values.append(
                {
                    "id": cleaned.get("id"),
                    "delete": bool(cleaned.get("DELETE")),
                    **{f: cleaned.get(f) for f in services.TIER_FIELDS if f in cleaned},
                }
            )
            rows.append(row)
        try:
            saved = services.program_rules_save(
                actor=request.user, program=program, data=form.cleaned_data, tiers=values
            )
        except ApplicationError as exc:
            _rules_errors(form, rows, exc)
        else:
            messages.success(request, _("Program rules saved."))
            return redirect("loyalty:settings_program", pk=saved.pk)
    return render(
        request,
        "loyalty/settings_program_form.html",
        {"form": form, "formset": formset, "program": program},
    )
