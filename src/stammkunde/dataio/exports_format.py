"""Writing cells safely: spreadsheet formula injection is neutralised.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is executed as a formula by Excel and LibreOffice (OWASP "CSV injection").
Text cells get a leading apostrophe, which spreadsheets show as plain text;
numbers and dates stay numbers.
"""

from __future__ import annotations

from typing import Any

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Return ``value`` safe for a spreadsheet cell (only text is changed)."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value
