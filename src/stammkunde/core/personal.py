"""Plain rows of personal data for exports (DSGVO Art. 15/20), shared by every app.

Each app's ``customer_data_export`` picks its querysets; this module only turns
rows into JSON-safe dictionaries, so that all apps export in one shape.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models


def plain(value: Any) -> Any:
    """Return a JSON-safe form of one stored value."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(value).decode("ascii")}
    return value


def rows(qs: models.QuerySet[Any], *, exclude: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Return every concrete column of ``qs``'s rows as plain dictionaries, in id order."""
    skip = set(exclude)
    fields = [f.attname for f in qs.model._meta.concrete_fields if f.attname not in skip]
    return [
        {k: plain(v) for k, v in row.items()}
        for row in qs.order_by("pk").values(*fields).iterator(chunk_size=2000)
    ]


ERASED = "[erased]"  # what replaces a kept row's personal text
