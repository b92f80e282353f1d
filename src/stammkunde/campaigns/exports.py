"""CSV cells that are safe to open in a spreadsheet (no formula injection).

A text cell starting with ``= + - @`` (or tab / carriage return) would run as
a formula in Excel or LibreOffice; it gets a leading apostrophe. Numbers we
computed stay numbers (a negative amount cannot carry a formula).
The same rule as ``workforce/exports.py``; a candidate for ``core/`` once
both are committed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Return ``value`` ready for a CSV cell: text neutralised, numbers and dates plain."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
