"""Form widgets every app shares.

The browser's date pickers (``<input type="date">``, ``datetime-local``) take
their value only in ISO form (``2026-12-07``, ``2026-12-07T09:30``); Django's
``DateInput`` renders the value in the active language's format (``07.12.2026``
in German), which the browser drops, so a prefilled date shows empty and a
required one cannot be sent. These widgets always render ISO; the form fields
accept ISO in every language.
"""

from __future__ import annotations

from typing import Any

from django import forms


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")
