"""Planning pages: forecast, staffing heat map, recall scenario, partner scorecards, imports.

Views parse the request, call one selector or service and render; every
table can be downloaded as CSV with ``?format=csv``.
"""

from __future__ import annotations

import gzip
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import plotly
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from plotly.offline import get_plotlyjs

from stammkunde.core.errors import ApplicationError
from stammkunde.core.roles import partner_id_of

from . import charts, selectors, services
from .exports import csv_response
from .forms import CsvUploadForm, RosterBlockForm, ScenarioForm, StaffingTargetForm
from .models import is_planner

PLOTLY_MAX_AGE = 365 * 24 * 3600
SOURCE_LABELS = {
    "tickets": gettext_lazy("service desk tickets"),
    "contact volumes": gettext_lazy("contact volumes"),
}


def _require_planner(request: HttpRequest) -> None:
    if not is_planner(request.user):
        raise PermissionDenied


def _week(request: HttpRequest) -> date:
    raw = request.GET.get("week", "")
    try:
        day = date.fromisoformat(raw) if raw else selectors.next_week_start()
    except ValueError:
        day = selectors.next_week_start()
    return day - timedelta(days=day.weekday())


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower() or "queue"


# --------------------------------------------------------------------------- plotly bundle


@lru_cache(maxsize=1)
def _plotly_bundle() -> tuple[bytes, bytes]:
    raw = get_plotlyjs().encode()
    return raw, gzip.compress(raw, compresslevel=6)


@require_GET
def plotly_js(request: HttpRequest, version: str) -> HttpResponse:
    """The plotly.js bundle shipped inside the plotly package — local, never a CDN.

    The version is part of the URL, so the answer may be cached for a year.
    """
    if version != plotly.__version__:
        raise Http404
    raw, packed = _plotly_bundle()
    gz = "gzip" in request.headers.get("Accept-Encoding", "")
    response = HttpResponse(packed if gz else raw, content_type="text/javascript; charset=utf-8")
    if gz:
        response["Content-Encoding"] = "gzip"
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = f"public, max-age={PLOTLY_MAX_AGE}, immutable"
    return response


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    context.setdefault("plotly_version", plotly.__version__)
    context.setdefault("can_plan", is_planner(request.user))
    context.setdefault("can_edit", request.user.has_perm("workforce.add_rosterentry"))
    return render(request, template, context)


# --------------------------------------------------------------------------- overview


@login_required
def index_view(request: HttpRequest) -> HttpResponse:
    """Next week per queue at a glance; partner agents go straight to their scorecard."""
    if not is_planner(request.user):
        if partner_id_of(request.user) is not None:
            return redirect("workforce:scorecards")
        raise PermissionDenied
    week = _week(request)
    rows, problems = [], []
    for queue in selectors.queue_names(user=request.user):
        try:
            plan = selectors.staffing_plan(user=request.user, queue=queue, start=week)
        except ApplicationError as exc:
            problems.append(exc.message)
            continue
        rows.append(
            {
                "queue": queue,
                "contacts": float(plan.need["contacts"].sum()),
                "peak_required": int(plan.need["required"].max()),
                "short_intervals": plan.short_intervals,
                "missing_agent_hours": plan.missing_agent_hours,
            }
        )
    return _page(
        request, "workforce/index.html", {"week": week, "rows": rows, "problems": problems}
    )


# --------------------------------------------------------------------------- forecast


@login_required
def forecast_view(request: HttpRequest) -> HttpResponse:
    """Forecast vs actual for one queue and channel, and next week's intervals."""
    _require_planner(request)
    pairs = selectors.queue_list(user=request.user)
    week = _week(request)
    queue = request.GET.get("queue") or (pairs[0][0] if pairs else "")
    channel = request.GET.get("channel") or next((c for q, c in pairs if q == queue), "")
    context: dict[str, Any] = {"pairs": pairs, "queue": queue, "channel": channel, "week": week}
    if (queue, channel) in pairs:
        try:
            check = selectors.forecast_check(
                user=request.user, queue=queue, channel=channel, start=week
            )
        except ApplicationError as exc:
            context["error"] = exc.message
        else:
            if _wants_csv(request):
                return csv_response(
                    f"forecast-{_slug(queue)}-{_slug(channel)}-{week}.csv",
                    ["interval_start", "queue", "channel", "contacts", "aht_s"],
                    (
                        [ts.isoformat(), queue, channel, row.contacts, row.aht_s]
                        for ts, row in check.forecast.iterrows()
                    ),
                )
            context.update(
                {
                    "check": check,
                    "figure": charts.forecast_figure(check),
                    "days": selectors.daily_forecast(check.forecast),
                }
            )
    elif pairs and request.GET.get("queue"):
        raise Http404
    return _page(request, "workforce/forecast.html", context)


# --------------------------------------------------------------------------- staffing


@login_required
def staffing_view(request: HttpRequest) -> HttpResponse:
    """Requirement against roster for a week: heat map, curve, per-day table, roster entry."""
    _require_planner(request)
    queues = selectors.queue_names(user=request.user)
    queue = request.GET.get("queue") or (queues[0] if queues else "")
    week = _week(request)
    context: dict[str, Any] = {
        "queues": queues,
        "queue": queue,
        "week": week,
        "prev_week": week - timedelta(days=7),
        "next_week": week + timedelta(days=7),
    }
    if queue in queues:
        try:
            plan = selectors.staffing_plan(user=request.user, queue=queue, start=week)
        except ApplicationError as exc:
            context["error"] = exc.message
        else:
            if _wants_csv(request):
                return _gap_csv(f"staffing-{_slug(queue)}-{week}.csv", queue, plan.gap, plan.need)
            context.update(
                {
                    "plan": plan,
                    "days": selectors.daily_summary(plan.gap),
                    "heatmap": charts.heatmap_figure(
                        plan.heatmap, title=_("Planned minus required agents")
                    ),
                    "curve": charts.staffing_figure(plan.gap),
                }
            )
    elif queues and request.GET.get("queue"):
        raise Http404
    context["targets"] = selectors.targets_for_queue(user=request.user, queue=queue)
    context["target_form"] = StaffingTargetForm(initial=_target_initial(queue, context["targets"]))
    context["can_set_targets"] = request.user.has_perm("workforce.change_staffingtarget")
    context["block_form"] = RosterBlockForm(
        initial={"queue": queue, "day": week, "start": "08:00", "end": "12:00"}
    )
    return _page(request, "workforce/staffing.html", context)


def _errors_text(form: Any) -> str:
    """A form's errors in one message, each with its field's label (not its code)."""
    return "; ".join(
        f"{form.fields[name].label if name in form.fields else _('form')}: {' '.join(errors)}"
        for name, errors in form.errors.items()
    )


def _percent(share: Any) -> Decimal | None:
    """A stored share (0.8) as the form's percent with one decimal (80.0).

    ``0.8 * 100`` is 80.00000000000001 in floating point: prefilled like that, the
    form refused its own value (one decimal place allowed).
    """
    if share is None:
        return None
    return (Decimal(str(share)) * 100).quantize(Decimal("0.1"))


def _target_initial(queue: str, targets: list[Any]) -> dict[str, Any]:
    initial: dict[str, Any] = {"queue": queue}
    if targets:
        channel, target = targets[0]["channel"], targets[0]["target"]
        initial.update(
            {
                "channel": channel,
                "target_percent": _percent(target.target_sl),
                "target_answer_s": target.target_answer_s,
                "shrinkage_percent": _percent(target.shrinkage),
                "max_occupancy_percent": _percent(target.max_occupancy),
                "aht_override_s": target.aht_override_s,
            }
        )
    return initial


@login_required
@require_POST
def target_set_view(request: HttpRequest) -> HttpResponse:
    """Set a queue's service level, shrinkage, occupancy cap and AHT override."""
    _require_planner(request)
    if not request.user.has_perm("workforce.change_staffingtarget"):
        raise PermissionDenied
    form = StaffingTargetForm(request.POST)
    if form.is_valid():
        try:
            services.staffing_target_set(actor=request.user, **form.service_data())
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Staffing target saved."))
    else:
        messages.error(request, _errors_text(form))
    url = reverse("workforce:staffing")
    return redirect(f"{url}?queue={request.POST.get('queue', '')}&week={_week(request)}")


def _gap_csv(filename: str, queue: str, gap: Any, need: Any) -> HttpResponse:
    return csv_response(
        filename,
        [
            "interval_start",
            "queue",
            "contacts",
            "traffic_erlangs",
            "raw_agents",
            "required",
            "planned",
            "gap",
            "status",
        ],
        (
            [
                ts.isoformat(),
                queue,
                row.contacts,
                need.at[ts, "traffic"],
                need.at[ts, "raw_agents"],
                row.required,
                row.planned,
                row.gap,
                row.status,
            ]
            for ts, row in gap.iterrows()
        ),
    )


@login_required
@require_POST
def roster_block_view(request: HttpRequest) -> HttpResponse:
    """Plan agents for a block of intervals (entered in the staffing page)."""
    _require_planner(request)
    if not request.user.has_perm("workforce.add_rosterentry"):
        raise PermissionDenied
    form = RosterBlockForm(request.POST)
    queue = request.POST.get("queue", "")
    day = None
    if form.is_valid():
        data = form.cleaned_data
        day = data["day"]
        try:
            count = services.roster_block_set(
                actor=request.user,
                queue=data["queue"],
                day=data["day"],
                start=data["start"],
                end=data["end"],
                agents=data["agents"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(count)s intervals planned.") % {"count": count})
    else:
        messages.error(request, _errors_text(form))
    url = reverse("workforce:staffing")
    week = day - timedelta(days=day.weekday()) if day else _week(request)
    return redirect(f"{url}?queue={queue}&week={week}")


# --------------------------------------------------------------------------- scenario


@login_required
def scenario_view(request: HttpRequest) -> HttpResponse:
    """What-if: +X % contacts for N days from a date → gap and agents to add."""
    _require_planner(request)
    queues = selectors.queue_names(user=request.user)
    bound = "queue" in request.GET
    form = ScenarioForm(
        request.GET if bound else None,
        queues=queues,
        initial={"start": selectors.next_week_start(), "days": 3, "uplift_percent": 40},
    )
    context: dict[str, Any] = {"form": form}
    if bound and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = selectors.scenario_run(
                user=request.user,
                queue=data["queue"],
                start=data["start"],
                days=data["days"],
                uplift=float(data["uplift_percent"]) / 100.0,
            )
        except ApplicationError as exc:
            context["error"] = exc.message
        else:
            if _wants_csv(request):
                gap = outcome.scenario.gap.assign(agents_to_add=outcome.agents_to_add)
                return csv_response(
                    f"scenario-{_slug(data['queue'])}-{data['start']}.csv",
                    [
                        "interval_start",
                        "queue",
                        "contacts",
                        "required",
                        "planned",
                        "gap",
                        "agents_to_add",
                    ],
                    (
                        [
                            ts.isoformat(),
                            data["queue"],
                            r.contacts,
                            r.required,
                            r.planned,
                            r.gap,
                            r.agents_to_add,
                        ]
                        for ts, r in gap.iterrows()
                    ),
                )
            context.update(
                {
                    "outcome": outcome,
                    "data": data,
                    "days": selectors.daily_summary(outcome.scenario.gap),
                    "baseline_days": selectors.daily_summary(outcome.baseline.gap),
                    "heatmap": charts.heatmap_figure(
                        outcome.scenario.heatmap, title=_("Gap under the scenario")
                    ),
                }
            )
    return _page(request, "workforce/scenario.html", context)


# --------------------------------------------------------------------------- scorecards


def _period(request: HttpRequest) -> str:
    return "month" if request.GET.get("period") == "month" else "week"


def _since(request: HttpRequest) -> date | None:
    try:
        return date.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        return None


def _scorecard_page(
    request: HttpRequest, cards: selectors.Scorecards, context: dict[str, Any]
) -> HttpResponse:
    table = cards.table
    if _wants_csv(request):
        return csv_response(
            f"scorecards-{context['period']}.csv",
            [
                "group",
                "period",
                "volume",
                "solved",
                "sla_attainment",
                "fcr_rate",
                "reopen_rate",
                "csat_mean",
                "handling_minutes_mean",
                "cost_total",
                "cost_per_contact",
                "ola_met",
            ],
            (
                [
                    r.group,
                    r.period.date(),
                    r.volume,
                    r.solved,
                    r.sla_attainment,
                    r.fcr_rate,
                    r.reopen_rate,
                    r.csat_mean,
                    r.handling_minutes_mean,
                    r.cost_total,
                    r.cost_per_contact,
                    r.ola_met,
                ]
                for r in table.itertuples()
            ),
        )
    context.update(
        {
            "cards": selectors.scorecard_cards(cards),
            "rows": table.to_dict("records"),
            "sources": [SOURCE_LABELS.get(s, s) for s in cards.sources],
            "first_day": cards.first_day,
        }
    )
    if not table.empty:
        context["sla_figure"] = charts.scorecard_figure(
            table, column="sla_attainment", title=_("SLA attainment")
        )
        context["cost_figure"] = charts.scorecard_figure(
            table, column="cost_per_contact", title=_("Cost per contact (EUR)")
        )
    return _page(request, "workforce/scorecards.html", context)


@login_required
def scorecards_view(request: HttpRequest) -> HttpResponse:
    """Partners and own team side by side; a partner agent sees only its own card."""
    if not (is_planner(request.user) or partner_id_of(request.user) is not None):
        raise PermissionDenied
    period = _period(request)
    try:
        cards = selectors.scorecards_get(user=request.user, period=period, since=_since(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        cards = selectors.Scorecards(*selectors.empty_scorecards())
    return _scorecard_page(request, cards, {"period": period, "single": None})


@login_required
def scorecard_partner_view(request: HttpRequest, partner_id: int) -> HttpResponse:
    """One partner's scorecard; 404 for a partner agent of another partner."""
    contract = selectors.contract_get(user=request.user, partner_id=partner_id)
    period = _period(request)
    try:
        cards = selectors.scorecards_get(user=request.user, period=period, since=_since(request))
    except ApplicationError as exc:
        # As on the overview: the reason on the page, an empty card, never a 500.
        messages.error(request, exc.message)
        cards = selectors.Scorecards(*selectors.empty_scorecards())
    cards = selectors.scorecards_only(cards, contract.group_name)
    return _scorecard_page(request, cards, {"period": period, "single": contract})


# --------------------------------------------------------------------------- imports


@login_required
def import_view(request: HttpRequest) -> HttpResponse:
    """Upload contact volumes or a roster as CSV; every bad line is listed, nothing stored."""
    _require_planner(request)
    can_import = request.user.has_perm("workforce.add_contactvolume")
    volume_form, roster_form = CsvUploadForm(prefix="volumes"), CsvUploadForm(prefix="roster")
    errors: dict[str, list[str]] | None = None
    if request.method == "POST":
        if not can_import:
            raise PermissionDenied
        kind = request.POST.get("kind")
        form = CsvUploadForm(request.POST, request.FILES, prefix=kind)
        if kind not in ("volumes", "roster"):
            raise Http404
        if form.is_valid():
            service = (
                services.contact_volumes_import if kind == "volumes" else services.roster_import
            )
            try:
                result = service(actor=request.user, content=form.cleaned_data["file"])
            except ApplicationError as exc:
                messages.error(
                    request,
                    _("Nothing imported: %(n)s problem(s).") % {"n": len(exc.field_errors) or 1},
                )
                errors = exc.field_errors or {"file": [exc.message]}
            else:
                messages.success(
                    request,
                    _("%(rows)s rows imported (%(replaced)s replaced).")
                    % {"rows": result.rows, "replaced": result.replaced},
                )
                return redirect("workforce:imports")
        else:
            errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
        if kind == "volumes":
            volume_form = form
        else:
            roster_form = form
    return _page(
        request,
        "workforce/imports.html",
        {
            "volume_form": volume_form,
            "roster_form": roster_form,
            "errors": errors,
            "can_import": can_import,
        },
    )
