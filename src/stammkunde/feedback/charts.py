"""plotly figures of the report; the page loads plotly's offline bundle once (no CDN).

Each figure is a JSON data block drawn by ``static/js/charts.js`` (no inline script).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from django.utils.formats import get_format

from stammkunde.core.charts import figure_html

from .analysis import CES_RANGE

TITLES = {"nps": "NPS", "csat": "CSAT (% 4–5)", "ces": "CES (1–7)"}

#: The y axis of each metric spans its whole scale, so charts of different periods,
#: surveys or splits compare at a glance and a few answers never stretch the axis
#: (an autoscaled CES chart ran from −20 to 30 on a scale of 1 to 7).
Y_RANGES: dict[str, tuple[float, float]] = {
    "nps": (-100.0, 100.0),  # promoters minus detractors, in points
    "csat": (0.0, 100.0),  # share of 4 and 5 answers, in percent
    "ces": (float(CES_RANGE[0]), float(CES_RANGE[1])),  # mean answer on the 1..7 scale
}
#: Hover text: the count is an integer with the locale's thousands separator.
_COUNT = "n=%{customdata:,d}"


def _separators() -> str:
    """Return plotly's ``separators`` (decimal, then thousands) for the active language."""
    return f"{get_format('DECIMAL_SEPARATOR')}{get_format('THOUSAND_SEPARATOR')}"


def _html(fig: go.Figure, div_id: str, metric: str) -> str:
    low, high = Y_RANGES[metric]
    fig.update_layout(
        height=320,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        separators=_separators(),
    )
    fig.update_yaxes(range=[low, high], autorange=False, fixedrange=True)
    return figure_html(fig, div_id=div_id, config={"responsive": True})


def _series(frame: pd.DataFrame, metric: str) -> go.Figure:
    fig = go.Figure()
    if len(frame):
        x = frame["period"]
        fig.add_trace(
            go.Scatter(
                x=list(x) + list(x[::-1]),
                y=list(frame["high"]) + list(frame["low"][::-1]),
                fill="toself",
                line={"width": 0},
                fillcolor="rgba(31,119,180,0.2)",
                name="95 %",
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=frame["value"],
                mode="lines+markers",
                name=TITLES[metric],
                customdata=frame["n"].astype(int),
                hovertemplate=f"%{{x|%Y-%m}}: %{{y:.1f}} ({_COUNT})<extra></extra>",
            )
        )
    fig.update_layout(title=TITLES[metric], showlegend=False)
    return fig


def _bars(frame: pd.DataFrame, metric: str, by: str) -> go.Figure:
    fig = go.Figure()
    if len(frame):
        fig.add_trace(
            go.Bar(
                x=frame[by].astype(str),
                y=frame["value"],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (frame["high"] - frame["value"]).fillna(0),
                    "arrayminus": (frame["value"] - frame["low"]).fillna(0),
                },
                customdata=frame["n"].astype(int),
                hovertemplate=f"%{{x}}: %{{y:.1f}} ({_COUNT})<extra></extra>",
            )
        )
    fig.update_layout(title=f"{TITLES[metric]} / {by}")
    return fig


def report_charts(report: dict[str, Any], *, by: str) -> list[str]:
    """Return the chart snippets (HTML divs) for the report page."""
    out = [_html(_series(report["monthly"][m], m), f"chart-{m}", m) for m in TITLES]
    if by:
        out += [_html(_bars(report["split"][m], m, by), f"chart-{m}-by", m) for m in TITLES]
    return out
