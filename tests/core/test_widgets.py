"""Date pickers get their value in ISO form in every language (else the browser drops it)."""

from __future__ import annotations

from datetime import date, datetime

from django import forms
from django.utils import translation

from stammkunde.core.widgets import DateInput, DateTimeLocalInput


class _Form(forms.Form):
    day = forms.DateField(widget=DateInput())
    at = forms.DateTimeField(widget=DateTimeLocalInput())


def test_prefilled_dates_render_in_iso_and_iso_is_accepted_in_german() -> None:
    with translation.override("de"):
        html = str(_Form(initial={"day": date(2026, 12, 7), "at": datetime(2026, 12, 7, 9, 30)}))
        assert 'type="date"' in html and 'value="2026-12-07"' in html
        assert 'type="datetime-local"' in html and 'value="2026-12-07T09:30"' in html
        bound = _Form(data={"day": "2026-12-07", "at": "2026-12-07T09:30"})
        assert bound.is_valid(), bound.errors
        assert bound.cleaned_data["day"] == date(2026, 12, 7)
