"""Plotly figures for the planning pages, rendered as HTML fragments without the library.

The plotly.js bundle itself is served once, locally, by ``views.plotly_js``
(never from a CDN); each fragment is a ``<div>`` plus its figure as a JSON data block, drawn by
``static/js/charts.js`` (no inline script: the Content-Security-Policy).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from django.utils.translation import gettext as _

from stammkunde.core.charts import figure_html

CONFIG = {"displaylogo": False, "responsive": True}
LAYOUT: dict[str, Any] = {
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "height": 360,
    "legend": {"orientation": "h", "y": -0.15},
    "template": "plotly_white",
}


def _html(fig: go.Figure) -> str:
    return figure_html(fig, config=CONFIG)


def forecast_figure(check: Any) -> str:
    """Last 7 days: actual, forecast without seeing them, seasonal naive; then next week."""
    fig = go.Figure()
    fig.add_scatter(
        x=check.recent_actual.index,
        y=check.recent_actual.values,
        name=_("actual"),
        line={"color": "#1d2733"},
    )
    fig.add_scatter(
        x=check.recent_forecast.index,
        y=check.recent_forecast.values,
        name=_("forecast (holdout)"),
        line={"color": "#0b6e4f"},
    )
    fig.add_scatter(
        x=check.recent_naive.index,
        y=check.recent_naive.values,
        name=_("same slot a week earlier"),
        line={"color": "#b0b8c1", "dash": "dot"},
    )
    fig.add_scatter(
        x=check.forecast.index,
        y=check.forecast["contacts"].values,
        name=_("forecast"),
        line={"color": "#0b6e4f", "dash": "dash"},
    )
    fig.update_layout(title=_("Contacts per interval"), **LAYOUT)
    return _html(fig)


def heatmap_figure(heatmap: pd.DataFrame, *, title: str) -> str:
    """Day × time of day; red = agents missing, blue = more planned than needed."""
    days = [d.strftime("%a %d.%m.") for d in pd.DatetimeIndex(heatmap.index)]
    limit = float(max(abs(heatmap.min().min()), abs(heatmap.max().max()), 1.0))
    fig = go.Figure(
        go.Heatmap(
            z=heatmap.to_numpy(),
            x=list(heatmap.columns),
            y=days,
            zmid=0,
            zmin=-limit,
            zmax=limit,
            colorscale=[[0.0, "#b42318"], [0.5, "#f8f9fb"], [1.0, "#2e6fd8"]],
            colorbar={"title": _("planned − required")},
            hovertemplate="%{y} %{x}: %{z:+.0f}<extra></extra>",
        )
    )
    fig.update_layout(title=title, **{**LAYOUT, "height": 320})
    fig.update_yaxes(autorange="reversed")
    return _html(fig)


def staffing_figure(gap: pd.DataFrame) -> str:
    """Required against planned agents per interval."""
    fig = go.Figure()
    fig.add_scatter(
        x=gap.index, y=gap["required"], name=_("required"), line={"color": "#b42318", "shape": "hv"}
    )
    fig.add_scatter(
        x=gap.index, y=gap["planned"], name=_("planned"), line={"color": "#2e6fd8", "shape": "hv"}
    )
    fig.update_layout(title=_("Agents per interval"), **LAYOUT)
    return _html(fig)


def scorecard_figure(table: pd.DataFrame, *, column: str, title: str) -> str:
    """One line per partner/team over the periods."""
    fig = go.Figure()
    for group, rows in table.groupby("group"):
        fig.add_scatter(x=rows["period"], y=rows[column], name=str(group), mode="lines+markers")
    fig.update_layout(title=title, **LAYOUT)
    return _html(fig)
