"""Analytics pages: the dashboard with plotly charts and the offline plotly bundle."""

from __future__ import annotations

from functools import cache
from typing import Any

import plotly
import plotly.graph_objects as go
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import get_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from stammkunde.core.access import User
from stammkunde.core.charts import chart_scripts, figure_html
from stammkunde.core.roles import ADMIN, ANALYST, MARKETING, TEAM_LEAD, has_role

from . import selectors

DASHBOARD_ROLES = (ADMIN, ANALYST, MARKETING, TEAM_LEAD)


def may_see_dashboard(user: User) -> bool:
    """The analytics page is for analysts, marketing, team leads and admins."""
    return has_role(user, *DASHBOARD_ROLES)


@cache
def _plotly_js() -> bytes:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode()


@require_GET
@cache_control(public=True, max_age=31_536_000, immutable=True)
def plotly_js_view(request: HttpRequest) -> HttpResponse:
    """Serve plotly's JS from the installed Python package (no CDN, nothing copied).

    The URL carries plotly's version, so the browser may cache it for a year.
    """
    return HttpResponse(_plotly_js(), content_type="application/javascript; charset=utf-8")


def _html(fig: go.Figure) -> SafeString:
    fig.update_layout(
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        height=320,
        template="plotly_white",
        # Decimal and thousands separators of the page's language (1.234 in German).
        separators=f"{get_format('DECIMAL_SEPARATOR')}{get_format('THOUSAND_SEPARATOR')}",
    )
    return figure_html(fig, config={"displaylogo": False, "responsive": True})


#: A y axis of customer counts: from 0, whole numbers only.
_COUNT_AXIS = {"rangemode": "tozero", "tickformat": ",d"}
#: A probability axis spans 0 to 1 whatever the data, shown in percent.
_SHARE_AXIS = {"range": [0, 1], "autorange": False, "tickformat": ".0%"}


def _charts(data: dict[str, Any], run: Any, cohorts: Any) -> dict[str, SafeString]:
    charts: dict[str, SafeString] = {}
    edges = [i / 20 for i in range(21)]
    charts["risk"] = _html(
        go.Figure(
            go.Bar(
                x=[(edges[i] + edges[i + 1]) / 2 for i in range(20)],
                y=data["risk_histogram"],
                width=0.048,
                marker_color="#b54708",
            ),
            layout={
                "title": _("Churn risk (latest scores)"),
                "xaxis": {"title": _("churn risk"), **_SHARE_AXIS},
                "yaxis": {"title": _("customers"), **_COUNT_AXIS},
            },
        )
    )
    charts["phases"] = _html(
        go.Figure(
            go.Bar(
                x=[label for _code, label, _n in data["phases"]],
                y=[n for _code, _label, n in data["phases"]],
                marker_color="#0b6e4f",
            ),
            layout={
                "title": _("Lifecycle phases"),
                "yaxis": {"title": _("customers"), **_COUNT_AXIS},
            },
        )
    )
    charts["classes"] = _html(
        go.Figure(
            go.Bar(
                x=[c for c, _n in data["classes"]],
                y=[n for _c, n in data["classes"]],
                marker_color="#5b6b7c",
            ),
            layout={
                "title": _("Value classes by CLV"),
                "yaxis": {"title": _("customers"), **_COUNT_AXIS},
            },
        )
    )
    reliability = (run.metrics or {}).get("reliability") if run else None
    if reliability:
        charts["reliability"] = _html(
            go.Figure(
                [
                    go.Scatter(
                        x=[0, 1],
                        y=[0, 1],
                        mode="lines",
                        name=_("perfect"),
                        line={"dash": "dot", "color": "#999"},
                    ),
                    go.Scatter(
                        x=reliability["predicted"],
                        y=reliability["observed"],
                        mode="lines+markers",
                        name=_("model"),
                        line={"color": "#0b6e4f"},
                    ),
                ],
                layout={
                    "title": _("Reliability (held-out customers)"),
                    "xaxis": {"title": _("predicted churn risk"), **_SHARE_AXIS},
                    "yaxis": {"title": _("observed churn rate"), **_SHARE_AXIS},
                },
            )
        )
    if cohorts is not None:
        charts["cohorts"] = _html(
            go.Figure(
                go.Heatmap(
                    z=(cohorts.to_numpy() * 100).round(1).tolist(),
                    x=[str(c) for c in cohorts.columns],
                    y=[str(p) for p in cohorts.index],
                    colorscale="Greens",
                    zmin=0,
                    zmax=100,
                    colorbar={"title": "%"},
                ),
                layout={
                    "title": _("Retention by first-purchase month (%)"),
                    "xaxis_title": _("months since first purchase"),
                    "yaxis": {"autorange": "reversed"},
                    "height": 480,
                },
            )
        )
    return charts


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Distributions, cohort retention and churn-model quality of the latest run."""
    if not may_see_dashboard(request.user):
        raise PermissionDenied
    run = selectors.run_latest(user=request.user)
    data = selectors.dashboard_data(user=request.user)
    cohorts = selectors.cohort_table(user=request.user, as_of=run.as_of) if run else None
    context = {
        "run": run,
        "data": data,
        "charts": _charts(data, run, cohorts),
        "cohorts": cohorts,
        "plotly_script": chart_scripts(f"{reverse('analytics:plotly_js')}?v={plotly.__version__}"),
    }
    return render(request, "analytics/dashboard.html", context)
