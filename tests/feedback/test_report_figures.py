"""The feedback report's figures agree with their scales: fixed axes and integer counts.

Checked on the demo shop (bicycle shop with its two demo surveys) in German.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.formats import number_format

from stammkunde.demo.generator import demo_generate
from stammkunde.feedback import selectors
from stammkunde.feedback.demo import feedback_demo_generate

pytestmark = pytest.mark.django_db
END = datetime(2026, 6, 30, 23, 59, tzinfo=UTC)
EXPECTED_RANGES = {"nps": [-100, 100], "csat": [0, 100], "ces": [1, 7]}


@pytest.fixture
def shop(db) -> None:
    demo_generate(customers=800, seed=3, end=END)
    feedback_demo_generate(seed=3, end=END)


def _figures(html: str) -> dict[str, dict]:
    blocks = re.findall(
        r'<script id="(chart-[\w-]+)-figure" type="application/json">(.*?)</script>', html, re.S
    )
    return {div: json.loads(body) for div, body in blocks}


def _page(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(
        reverse("feedback:report") + "?days=3650&by=value_class", HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.status_code == 200
    return response.content.decode()


def test_every_report_chart_spans_its_metrics_whole_scale(shop, admin) -> None:
    # when
    figures = _figures(_page(admin))
    # then: the monthly series and the split, for NPS, CSAT and CES (also when CES is empty)
    assert set(figures) == {f"chart-{m}{s}" for m in EXPECTED_RANGES for s in ("", "-by")}
    for div, figure in figures.items():
        metric = div.split("-")[1]
        yaxis = figure["layout"]["yaxis"]
        assert yaxis["range"] == EXPECTED_RANGES[metric], div
        assert yaxis.get("autorange") is False, div


def test_counts_on_the_report_are_german_integers(shop, admin) -> None:
    # given the counts as the selector computes them
    report = selectors.feedback_report(user=admin, days=3650)
    n_nps = report["overall"]["nps"].n
    assert isinstance(n_nps, int) and n_nps > 50
    # when
    html = _page(admin)
    # then: "n=373", never "n=373,0"; thousands grouped with a dot
    shown = re.findall(r"n=<span data-n>([^<]*)</span>", html)
    assert len(shown) == 3
    for text in shown:
        assert re.fullmatch(r"\d{1,3}(\.\d{3})*", text), text
    with translation.override("de"):
        assert shown[0] == number_format(n_nps, force_grouping=True)
    assert not re.search(r"n=\d+,\d", html)


def test_hover_counts_are_integers_with_german_separators(shop, admin) -> None:
    # when
    figures = _figures(_page(admin))
    # then
    for div, figure in figures.items():
        assert figure["layout"]["separators"] == ",.", div
        for trace in figure["data"]:
            if "customdata" in trace:
                assert "n=%{customdata:,d}" in trace["hovertemplate"], div
                assert all(float(n).is_integer() for n in _flat(trace["customdata"])), div


def _flat(data) -> list:
    if isinstance(data, dict):  # plotly's typed-array encoding
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)
