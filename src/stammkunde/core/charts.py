"""A plotly figure as HTML without inline script, so the strict Content-Security-Policy holds.

``fig.to_html()`` writes ``<script>Plotly.newPlot(...)</script>`` and a ``style`` attribute,
both refused by the policy. Here the figure becomes an empty ``<div>`` and its JSON in a
``<script type="application/json">`` block, which the browser never executes;
``static/js/charts.js`` (loaded after plotly's bundle, see :func:`chart_scripts`) draws it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString


def figure_html(
    fig: go.Figure, *, div_id: str | None = None, config: dict[str, Any] | None = None
) -> SafeString:
    """Return the chart's ``<div>`` and its figure as a JSON data block (escaped for HTML).

    Labels may come from users (segment, product or queue names): ``json_script`` escapes
    ``<``, ``>`` and ``&``, so no label can close the block.
    """
    div_id = div_id or f"chart-{uuid.uuid4().hex[:12]}"
    figure = json.loads(pio.to_json(fig, validate=False))  # numpy and dates to plain JSON
    figure["config"] = config or {}
    return format_html(
        '<div id="{}" class="plotly-chart" data-figure="{}"></div>{}',
        div_id,
        f"{div_id}-figure",
        json_script(figure, f"{div_id}-figure"),
    )


def chart_scripts(plotly_url: str) -> SafeString:
    """The head of a chart page: plotly's styles as a file, its bundle, the drawing script."""
    return format_html(
        '{}<script src="{}"></script><script src="{}" defer></script>',
        render_to_string("plotly_styles.html"),
        plotly_url,
        static("js/charts.js"),
    )
