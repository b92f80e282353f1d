"""plotly figures of the report; the page loads plotly's offline bundle once (no CDN)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

TITLES = {"nps": "NPS", "csat": "CSAT (% 4–5)", "ces": "CES (1–7)"}


def _html(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(height=320, margin={"l": 40, "r": 10, "t": 40, "b": 40})
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id)


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
                customdata=frame["n"],
                hovertemplate="%{x|%Y-%m}: %{y:.1f} (n=%{customdata})<extra></extra>",
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
                customdata=frame["n"],
                hovertemplate="%{x}: %{y:.1f} (n=%{customdata})<extra></extra>",
            )
        )
    fig.update_layout(title=f"{TITLES[metric]} / {by}")
    return fig


def report_charts(report: dict[str, Any], *, by: str) -> list[str]:
    """Return the chart snippets (HTML divs) for the report page."""
    out = [_html(_series(report["monthly"][m], m), f"chart-{m}") for m in TITLES]
    if by:
        out += [_html(_bars(report["split"][m], m, by), f"chart-{m}-by") for m in TITLES]
    return out
