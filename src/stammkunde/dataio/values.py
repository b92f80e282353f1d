"""Cell values as shops, POS and German Excel write them: amounts, dates, flags.

Every parser takes the raw cell (text from CSV/JSON, or a typed value from
xlsx) and returns a Python value or raises ``CellError`` with a message for
people. ``decimal_comma`` says whether the file writes ``12,50`` (German
Excel: ``;`` separated) or ``12.50``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

LOCAL_TZ = ZoneInfo("Europe/Berlin")
TRUE_WORDS = frozenset({"1", "true", "yes", "ja", "j", "y", "x", "wahr"})
FALSE_WORDS = frozenset({"0", "false", "no", "nein", "n", "falsch", ""})


class CellError(ValueError):
    """A cell that cannot be read; the message says what was expected."""


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


# What a cell holds or should hold, in "%(kind)s where %(expected)s is expected";
# lazy: translated when the message is made (in the import's language).
_KINDS = {
    "bool": pgettext_lazy("import cell holds", "true/false"),
    "list": pgettext_lazy("import cell holds", "a list"),
    "object": pgettext_lazy("import cell holds", "an object"),
}
_EXPECTED = {
    "text": pgettext_lazy("import cell expects", "text"),
    "number": pgettext_lazy("import cell expects", "a number"),
    "bool": pgettext_lazy("import cell expects", "yes/no"),
}


def _kind_of(raw: Any) -> str | None:
    """Name a JSON value that no single cell can be (a flag, a list, an object)."""
    if isinstance(raw, bool):
        return "bool"
    if isinstance(raw, list | tuple):
        return "list"
    if isinstance(raw, dict):
        return "object"
    return None


def _refuse_structure(raw: Any, expected: str) -> None:
    kind = _kind_of(raw)
    if kind is not None:
        raise CellError(
            _("%(kind)s where %(expected)s is expected")
            % {"kind": _KINDS[kind], "expected": _EXPECTED[expected]}
        )


# The most digits a number may have before its point; no field holds more, and
# ``int()`` of ``1e999999`` would build a million digits.
MAX_INTEGER_DIGITS = 20


def _finite(number: Decimal, raw: Any) -> Decimal:
    if not number.is_finite():
        raise CellError(_("“%(value)s” is not a number") % {"value": raw})
    if number and number.adjusted() >= MAX_INTEGER_DIGITS:
        raise CellError(_("“%(value)s” is too large") % {"value": raw})
    return number


def number_text(raw: int | float | Decimal) -> str:
    """Return a number's exact digits: ``50667.0`` and ``5.0667e4`` are ``50667``, never ``1E+5``.

    A postal code or a phone number written as a JSON number (or an xlsx
    number cell) is text with digits; a fraction keeps its digits (``12.50``).
    """
    if isinstance(raw, int):
        return str(raw)
    number = _finite(Decimal(repr(raw)) if isinstance(raw, float) else raw, raw)
    if number == number.to_integral_value():
        return str(int(number))
    if number.adjusted() < -MAX_INTEGER_DIGITS:  # 1e-999999999 would be a gigabyte of zeros
        raise CellError(_("“%(value)s” has too many digits") % {"value": raw})
    return format(number, "f")


def text(raw: Any) -> str:
    """Return the cell as stripped text; numbers as their exact digits (``number_text``).

    A flag, list or object (JSON, or an xlsx TRUE) is refused: stored as text it
    would read "True" or "[1, 2]".
    """
    if type(raw) is str:
        return raw.strip()
    if raw is None:
        return ""
    _refuse_structure(raw, "text")
    if isinstance(raw, int | float | Decimal):
        return number_text(raw)
    return str(raw).strip()


_AMOUNT = re.compile(r"^[+-]?[0-9.,]+$")


def decimal_value(raw: Any, *, decimal_comma: bool) -> Decimal:
    """Return an amount; ``1.234,56`` and ``1,234.56`` both work, the file's style decides ``1,5``.

    One separator that occurs once is a decimal separator unless exactly three
    digits follow and it is the file's thousands separator (``1.250`` in a German
    file is 1250). Two different separators: the last one is the decimal one.
    """
    if type(raw) is str:
        value = raw.strip()
        if value.isdigit():
            return _finite(Decimal(value), raw)
    else:
        _refuse_structure(raw, "number")
    if isinstance(raw, int):
        return _finite(Decimal(raw), raw)
    if isinstance(raw, float):
        return _finite(Decimal(repr(raw)), raw)
    if isinstance(raw, Decimal):  # JSON numbers (``parse_float=Decimal``): exact
        return _finite(raw, raw)
    value = str(raw).strip()
    if value.isdigit():
        return _finite(Decimal(value), raw)
    if decimal_comma and value.count(",") == 1 and value.replace(",", "").isdigit():
        head, tail = value.split(",")
        if head and tail and (len(tail) != 3 or not head):
            return Decimal(f"{head}.{tail}")
    value = value.replace("\u00a0", "").replace(" ", "").replace("€", "")
    value = value.replace("EUR", "")
    if not value or not _AMOUNT.match(value):
        raise CellError(_("“%(value)s” is not an amount") % {"value": raw})
    commas, dots = value.count(","), value.count(".")
    if commas and dots:
        decimal_sep = "," if value.rfind(",") > value.rfind(".") else "."
    elif commas or dots:
        sep = "," if commas else "."
        digits_after = len(value) - value.rfind(sep) - 1
        thousands_of_file = "." if decimal_comma else ","
        if value.count(sep) > 1 or (sep == thousands_of_file and digits_after == 3):
            decimal_sep = "." if sep == "," else ","  # sep is a thousands separator
        else:
            decimal_sep = sep
    else:
        decimal_sep = "."
    thousands = "," if decimal_sep == "." else "."
    parts = value.replace(thousands, "")
    if parts.count(decimal_sep) > 1:
        raise CellError(_("“%(value)s” is not an amount") % {"value": raw})
    try:
        return _finite(Decimal(parts.replace(decimal_sep, ".")), raw)
    except InvalidOperation as exc:
        raise CellError(_("“%(value)s” is not an amount") % {"value": raw}) from exc


def int_value(raw: Any, *, decimal_comma: bool) -> int:
    """Return a whole number (``3``, ``3,0`` and ``3.0`` are 3)."""
    if type(raw) is str and raw.isdigit():
        return int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    try:
        number = decimal_value(raw, decimal_comma=decimal_comma)
    except CellError as exc:
        raise CellError(_("“%(value)s” is not a whole number") % {"value": raw}) from exc
    if number != number.to_integral_value():
        raise CellError(_("“%(value)s” is not a whole number") % {"value": raw})
    return int(number)


def bool_value(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    _refuse_structure(raw, "bool")
    word = text(raw).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(_("“%(value)s” is not yes/no") % {"value": raw})


_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y", "%Y/%m/%d")
_TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%H:%M:%S.%f")


@lru_cache(maxsize=65536)
def _parse_date(value: str) -> date:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise CellError(
        _("“%(value)s” is not a date (expected dd.mm.yyyy or yyyy-mm-dd)") % {"value": value}
    )


_GERMAN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_ISO_NAIVE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$")


def _fast_local(value: str) -> datetime | None:
    """Parse the two common layouts without strptime (ten times faster on big files)."""
    m = _GERMAN.match(value)
    if m:
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    else:
        m = _ISO_NAIVE.match(value)
        if not m:
            return None
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    try:
        return datetime(
            year, month, day, int(m[4] or 0), int(m[5] or 0), int(m[6] or 0), tzinfo=LOCAL_TZ
        ).astimezone(UTC)
    except ValueError as exc:
        raise CellError(_("“%(value)s” is not a valid date") % {"value": value}) from exc


@lru_cache(maxsize=65536)
def _parse_datetime(value: str) -> datetime:
    fast = _fast_local(value)
    if fast is not None:
        return fast
    # ISO 8601 with an offset or "T" first: what APIs and JSON exports write.
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None:
        day_part, _sep, time_part = value.partition(" ")
        day = _parse_date(day_part)
        clock = time(0, 0)
        if time_part.strip():
            for fmt in _TIME_FORMATS:
                try:
                    clock = datetime.strptime(time_part.strip(), fmt).time()
                    break
                except ValueError:
                    continue
            else:
                raise CellError(_("“%(value)s” is not a date and time") % {"value": value})
        parsed = datetime.combine(day, clock)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    return parsed.astimezone(UTC)


def date_value(raw: Any) -> date:
    """Return a date from ``dd.mm.yyyy``, ``yyyy-mm-dd``, ``dd.mm.yy`` or an xlsx date cell."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    value = text(raw)
    if "T" in value or " " in value:
        return _parse_datetime(value).astimezone(LOCAL_TZ).date()
    return _parse_date(value)


def datetime_value(raw: Any) -> datetime:
    """Return an aware UTC time; times without an offset are Europe/Berlin local time."""
    if isinstance(raw, datetime):
        aware = raw if raw.tzinfo else raw.replace(tzinfo=LOCAL_TZ)
        return aware.astimezone(UTC)
    if isinstance(raw, date):
        return datetime.combine(raw, time(0, 0), tzinfo=LOCAL_TZ).astimezone(UTC)
    value = text(raw)
    if not value:
        raise CellError(_("empty date"))
    return _parse_datetime(value)
