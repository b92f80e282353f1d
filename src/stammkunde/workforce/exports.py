"""CSV downloads of the planning tables, safe to open in a spreadsheet.

A text cell starting with ``= + - @`` (or tab / carriage return) would run as
a formula in Excel or LibreOffice (CSV injection); such cells get a leading
apostrophe.  Numbers we computed are written as numbers — a negative gap
stays ``-3``, because it cannot carry a formula.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.http import HttpResponse

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Return ``value`` ready for a CSV cell: text neutralised, numbers plain, NaN empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "" if math.isnan(value) else round(value, 6)
    if isinstance(value, (int, date, datetime)):
        return value.isoformat() if isinstance(value, (date, datetime)) else value
    if hasattr(value, "item"):  # numpy scalars
        return csv_cell(value.item())
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HttpResponse:
    """An attachment response with a header row and neutralised cells."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so that Excel reads UTF-8 (umlauts in queue names)
    writer = csv.writer(response)
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return response
