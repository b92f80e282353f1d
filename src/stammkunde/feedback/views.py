"""HTML views: survey builder, triggers, survey rules, phone answers, report, answer page."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from stammkunde.core.access import access_object
from stammkunde.core.audit import audit_read
from stammkunde.core.errors import ApplicationError
from stammkunde.core.roles import ADMIN, AGENT, MARKETING, TEAM_LEAD, has_role, is_internal
from stammkunde.customers.models import Customer

from . import charts, selectors, services
from .forms import (
    AnswerForm,
    QuestionFormSet,
    SurveyForm,
    TriggerForm,
    TriggerRuleForm,
    apply_errors,
    question_initial,
    questions_from,
)
from .models import Response, Trigger

BUILDER_ROLES = (ADMIN, TEAM_LEAD, MARKETING)
PHONE_ROLES = (ADMIN, TEAM_LEAD, AGENT, MARKETING)


def _internal(request: HttpRequest) -> None:
    if not is_internal(request.user):
        raise PermissionDenied


def may_build(user: Any) -> bool:
    """Marketing and team leads build surveys (with the model permission of their role)."""
    return has_role(user, *BUILDER_ROLES) and user.has_perm("feedback.add_survey")


def _builder(request: HttpRequest) -> None:
    if not may_build(request.user):
        raise PermissionDenied


# ------------------------------------------------------------------ builder


@login_required
def survey_list_view(request: HttpRequest) -> HttpResponse:
    _internal(request)
    return render(
        request,
        "feedback/surveys.html",
        {"surveys": selectors.survey_list(user=request.user), "can_build": may_build(request.user)},
    )


def _survey_form_data(form: SurveyForm) -> dict[str, Any]:
    return dict(form.cleaned_data)


@login_required
def survey_create_view(request: HttpRequest) -> HttpResponse:
    _builder(request)
    form = SurveyForm(request.POST or None)
    formset = QuestionFormSet(request.POST or None, prefix="q")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            survey = services.survey_create(
                actor=request.user,
                questions=questions_from(formset),
                publish="publish" in request.POST,
                **_survey_form_data(form),
            )
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Survey saved."))
            return redirect("feedback:survey", pk=survey.pk)
    return render(
        request, "feedback/survey_form.html", {"form": form, "formset": formset, "survey": None}
    )


@login_required
def survey_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _builder(request)
    survey = selectors.survey_get(user=request.user, pk=pk)
    draft = selectors.survey_draft(survey) or survey.current_version
    initial = {f: getattr(survey, f) for f in services.SURVEY_FIELDS if f != "active"}
    form = SurveyForm(request.POST or None, initial=initial)
    formset = QuestionFormSet(request.POST or None, prefix="q", initial=question_initial(draft))
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.survey_update(
                actor=request.user,
                survey=survey,
                data=_survey_form_data(form),
                questions=questions_from(formset),
            )
            if "publish" in request.POST:
                services.survey_publish(actor=request.user, survey=survey)
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Survey saved."))
            return redirect("feedback:survey", pk=survey.pk)
    return render(
        request,
        "feedback/survey_form.html",
        {"form": form, "formset": formset, "survey": survey},
    )


@login_required
def survey_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    _internal(request)
    survey = selectors.survey_get(user=request.user, pk=pk)
    invitations = selectors.survey_invitations(survey=survey)
    audit_read(request, [i.customer_id for i in invitations])  # the list names customers
    return render(
        request,
        "feedback/survey_detail.html",
        {
            "survey": survey,
            "draft": selectors.survey_draft(survey),
            "versions": survey.versions.prefetch_related("questions").order_by("-number"),
            "triggers": survey.triggers.all(),
            "invitations": invitations,
            "trigger_form": TriggerForm(),
            "can_build": may_build(request.user),
            "can_enter": has_role(request.user, *PHONE_ROLES),
        },
    )


@login_required
@require_POST
def survey_publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    _builder(request)
    survey = selectors.survey_get(user=request.user, pk=pk)
    try:
        version = services.survey_publish(actor=request.user, survey=survey)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Version %(n)d published.") % {"n": version.number})
    return redirect("feedback:survey", pk=survey.pk)


@login_required
@require_POST
def trigger_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    _builder(request)
    survey = selectors.survey_get(user=request.user, pk=pk)
    form = TriggerForm(request.POST)
    if form.is_valid():
        try:
            # The same checks as the settings page's survey rules (period vs. gap, phase).
            services.trigger_save(
                actor=request.user, trigger=None, survey=survey, **form.cleaned_data
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Trigger added."))
    else:
        messages.error(
            request,
            "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()),
        )
    return redirect("feedback:survey", pk=survey.pk)


@login_required
@require_POST
def trigger_toggle_view(request: HttpRequest, pk: int) -> HttpResponse:
    _builder(request)
    trigger: Trigger = access_object(Trigger.objects.all(), request.user, pk=pk)
    services.trigger_set_active(actor=request.user, trigger=trigger, active=not trigger.active)
    return redirect("feedback:survey", pk=trigger.survey_id)


# ---------------------------------------------------------- phone answers


@login_required
def response_enter_view(request: HttpRequest, pk: int) -> HttpResponse:
    """An agent types in the answers a customer gave on the phone."""
    if not has_role(request.user, *PHONE_ROLES):
        raise PermissionDenied
    survey = selectors.survey_get(user=request.user, pk=pk)
    version = survey.current_version
    if version is None:
        raise Http404
    language = translation.get_language() or "de"
    form = AnswerForm(request.POST or None, version=version, language=language)
    number = request.POST.get("customer_number", request.GET.get("customer", "")).strip()
    if request.method == "POST" and form.is_valid():
        customer = Customer.objects.visible_to(request.user).filter(number=number.upper()).first()
        if customer is None:
            form.add_error(None, _("No customer with this number."))
        else:
            try:
                result = services.response_submit(
                    answers=form.answers(),
                    version=version,
                    customer=customer,
                    source=Response.Source.AGENT,
                    channel="phone",
                    language=customer.preferred_language,
                    actor=request.user,
                )
            except ApplicationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Answers saved."))
                return redirect("feedback:response", pk=result.response.pk)
    return render(
        request,
        "feedback/response_enter.html",
        {"survey": survey, "form": form, "customer_number": number},
    )


@login_required
def response_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    response = selectors.response_get(user=request.user, pk=pk)
    answers = response.answers.select_related("question").order_by("question__order")
    return render(
        request, "feedback/response_detail.html", {"response": response, "answers": answers}
    )


# ----------------------------------------------------------------- report


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


@cache_control(max_age=86400, public=True)
def plotly_js_view(request: HttpRequest) -> HttpResponse:
    """plotly's offline bundle from the installed package (no CDN, nothing copied into the repo)."""
    return HttpResponse(_plotly_js(), content_type="application/javascript; charset=utf-8")


@login_required
def report_view(request: HttpRequest) -> HttpResponse:
    _internal(request)
    by = request.GET.get("by", "")
    by = by if by in selectors.DIMENSIONS else ""
    try:
        days = max(7, min(int(request.GET.get("days", "365")), 3650))
    except ValueError:
        days = 365
    survey_raw = request.GET.get("survey", "")
    survey_id = int(survey_raw) if survey_raw.isdigit() else None
    report = selectors.feedback_report(user=request.user, days=days, by=by, survey_id=survey_id)
    themes = {}
    for source in ("answers", "tickets"):
        key = services.themes_cache_key(source=source, days=days)
        themes[source] = cache.get(key)
        if themes[source] is None:
            themes[source] = selectors.feedback_themes(user=request.user, days=days, source=source)
            cache.set(key, themes[source], services.THEMES_CACHE_SECONDS)
    return render(
        request,
        "feedback/report.html",
        {
            "report": report,
            "overall": report["overall"],
            "charts": charts.report_charts(report, by=by),
            "themes": themes,
            "by": by,
            "days": days,
            "dimensions": selectors.DIMENSIONS,
            "surveys": selectors.survey_list(user=request.user),
            "survey_id": survey_id,
            "nps_json": json.dumps(report["overall"]["nps"].value),
        },
    )


# ------------------------------------------------------- the public page


def _state_page(request: HttpRequest, state: str, invitation: Any, status: int) -> HttpResponse:
    context: dict[str, Any] = {"state": state}
    if invitation is not None and state == "used":
        version = invitation.version
        response = invitation.responses.first()
        context["thank_you"] = version.text("thank_you", invitation.language)
        context["title"] = version.text("title", invitation.language)
        if response is not None and response.nps is not None and response.nps >= 9:
            context["referral_code"] = services.referral_code_for(invitation.customer_id) or "-"
    return render(request, "feedback/answer_state.html", context, status=status)


@csrf_protect
def answer_view(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's personal survey page (no login); friendly pages for bad links."""
    invitation, state = selectors.invitation_by_token(token)
    language = invitation.language if invitation is not None else "de"
    with translation.override(language):
        if state == "invalid":
            return _state_page(request, state, None, 404)
        if state == "expired":
            return _state_page(request, state, invitation, 410)
        if state == "used":
            if request.method == "POST":
                # Answered once already: this submit is refused, the first answers stay.
                return _state_page(request, "answered", invitation, 409)
            return _state_page(request, state, invitation, 200)
        assert invitation is not None
        version = invitation.version
        form = AnswerForm(request.POST or None, version=version, language=language)
        if request.method == "POST" and form.is_valid():
            try:
                result = services.response_submit(answers=form.answers(), invitation=invitation)
            except ApplicationError as exc:
                if exc.code == "expired":
                    return _state_page(request, "expired", invitation, 410)
                apply_errors(form, exc)
            else:
                if not result.created:  # a twin submit committed first
                    return _state_page(request, "answered", invitation, 409)
                return redirect("feedback:answer", token=token)
        response = render(
            request,
            "feedback/answer.html",
            {
                "form": form,
                "title": version.text("title", language),
                "intro": version.text("intro", language),
                "language": language,
            },
            status=400 if request.method == "POST" else 200,
        )
        response["Content-Language"] = language
        return response


# ------------------------------------------------------ survey rules (settings page)


def _rules(request: HttpRequest) -> None:
    if not selectors.may_set_survey_rules(request.user):
        raise PermissionDenied


@login_required
def rules_view(request: HttpRequest) -> HttpResponse:
    """The settings section "Survey rules": every trigger of every survey."""
    _rules(request)
    return render(
        request,
        "feedback/rules.html",
        {"triggers": selectors.triggers_list(user=request.user)},
    )


@login_required
def rule_create_view(request: HttpRequest) -> HttpResponse:
    _rules(request)
    return _rule_form(request, None)


@login_required
def rule_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _rules(request)
    return _rule_form(request, selectors.trigger_get(user=request.user, pk=pk))


def _rule_form(request: HttpRequest, trigger: Trigger | None) -> HttpResponse:
    surveys = list(selectors.survey_list(user=request.user))
    initial: dict[str, Any] = (
        {
            "survey": str(trigger.survey_id),
            **{f: getattr(trigger, f) for f in services.TRIGGER_FIELDS},
        }
        if trigger
        else {}
    )
    form = TriggerRuleForm(request.POST or None, initial=initial, surveys=surveys)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        survey = next(s for s in surveys if str(s.pk) == data.pop("survey"))
        try:
            services.trigger_save(actor=request.user, trigger=trigger, survey=survey, **data)
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Survey rule saved."))
            return redirect("feedback:rules")
    return render(
        request,
        "feedback/rule_form.html",
        {
            "form": form,
            "trigger": trigger,
            "title": _("Edit survey rule") if trigger else _("New survey rule"),
        },
    )


@login_required
@require_POST
def rule_active_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch a survey rule on or off (audited by the service)."""
    _rules(request)
    trigger = selectors.trigger_get(user=request.user, pk=pk)
    services.trigger_set_active(actor=request.user, trigger=trigger, active=not trigger.active)
    messages.success(
        request, _("Survey rule switched on.") if trigger.active else _("Survey rule switched off.")
    )
    return redirect("feedback:rules")
