"""The texts of the customer timeline: a key and parameters, translated on display.

A service that writes a timeline entry stores a registered text key and its
parameters (``Interaction.text_key``/``text_params``); the page shows the text
in the reader's language (``Interaction.text``), and ``Interaction.summary``
keeps it in the site's default language for search and exports. Each app
registers the texts it writes in its ``AppConfig.ready()`` with
``timeline_text_register`` (re-exported by ``customers.services``), so the
customers app never imports the apps above it:

    timeline_text_register(
        "commerce.return",
        _("Return from order %(number)s: %(reason)s"),
        reason=timeline_choice(Return.Reason),
    )

The text is a gettext_lazy msgid with named ``%(…)s`` placeholders (or, for an
entry that is built from parts, a function of the shown parameters). A
parameter that is a code (a status, a type, a reason) is stored as the code
and shown as its label; an amount is stored as a string ("1258.90") and
shown in the reader's number format: the keyword arguments say how to show
each such parameter. Entries without a key (the words of the customer or an
agent) and entries whose key is not registered (any more) show ``summary``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Choices
from django.utils import translation
from django.utils.formats import get_format, number_format
from django.utils.functional import Promise

log = logging.getLogger(__name__)

Format = Callable[[Any], Any]
Text = str | Promise | Callable[[Mapping[str, Any]], str]

SUMMARY_MAX = 500  # Interaction.summary's max_length


@dataclass(frozen=True, slots=True)
class TimelineText:
    key: str
    text: Text
    formats: Mapping[str, Format]


_TEXTS: dict[str, TimelineText] = {}


def timeline_text_register(key: str, text: Text, **formats: Format) -> None:
    """Register (or replace) the text shown for timeline entries with ``key``.

    ``formats`` maps a parameter name to how it is shown (``timeline_amount``,
    ``timeline_choice(...)``, ``timeline_list(...)``); other parameters are
    shown as stored.
    """
    _TEXTS[key] = TimelineText(key, text, dict(formats))


def timeline_text_keys() -> list[str]:
    """The registered keys (for checks and tests)."""
    return sorted(_TEXTS)


def timeline_text_render(key: str, params: Mapping[str, Any] | None, *, fallback: str = "") -> str:
    """The text of ``key`` with ``params`` in the active language, else ``fallback``.

    ``fallback`` (the stored summary) is shown for entries without a key, with
    a key nobody registers (any more) or with parameters that do not fit it.
    """
    entry = _TEXTS.get(key) if key else None
    if entry is None:
        return fallback
    try:
        return _render(entry, _template(entry), params or {})
    except (KeyError, ValueError, TypeError, ArithmeticError):
        log.warning("timeline text %s does not fit its parameters %r", key, params)
        return fallback


def timeline_text_summary(key: str, params: Mapping[str, Any]) -> str:
    """The text of ``key`` in the site's default language: what ``summary`` stores."""
    return timeline_texts_summaries(key, [params])[0]


def timeline_texts_summaries(key: str, params: Iterable[Mapping[str, Any]]) -> list[str]:
    """``timeline_text_summary`` for many entries of one key (bulk writes): one lookup.

    Raises ``LookupError`` for an unregistered key and the formatting error for
    parameters that do not fit: a writer's mistake, found when it writes.
    """
    entry = _TEXTS.get(key)
    if entry is None:
        raise LookupError(f"timeline text {key!r} is not registered")
    with translation.override(settings.LANGUAGE_CODE):
        template = _template(entry)
        prepared = TimelineText(
            key, entry.text, {n: _prepared(f) for n, f in entry.formats.items()}
        )
        return [_render(prepared, template, p)[:SUMMARY_MAX] for p in params]


def timeline_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``params`` as stored in ``text_params``: JSON values (amounts as strings)."""
    if not params:
        return {}
    return dict(json.loads(json.dumps(params, cls=DjangoJSONEncoder)))


def _prepared(format: Format) -> Format:
    prepare = getattr(format, "prepare", None)
    return prepare() if prepare is not None else format


def _template(entry: TimelineText) -> Any:
    text = entry.text
    return str(text) if isinstance(text, Promise | str) else text


def _render(entry: TimelineText, template: Any, params: Mapping[str, Any]) -> str:
    formats = entry.formats
    values = {
        name: formats[name](value) if name in formats else value for name, value in params.items()
    }
    if callable(template):
        return str(template(values))
    return str(template % values)


# --- how parameters are shown


class _Amount:
    """An amount stored as a string (or Decimal), as ``number_format(value, 2)`` shows it.

    ``prepare()`` gives the same for the active language at a fraction of the
    cost per value (bulk writes render a summary per row).
    """

    def __init__(self, *, grouped: bool) -> None:
        self.grouped = grouped

    def __call__(self, value: Any) -> str:
        return self.prepare()(value)

    def prepare(self) -> Format:
        grouped = self.grouped
        if grouped or settings.USE_THOUSAND_SEPARATOR:
            return lambda v: str(number_format(_decimal(v), 2, force_grouping=grouped))
        separator = str(get_format("DECIMAL_SEPARATOR"))
        return lambda v: f"{_decimal(v):.2f}".replace(".", separator)


# In the reader's number format: "1258,90" in German, "1258.90" in English.
timeline_amount = _Amount(grouped=False)
# With thousands separators: "1.258,90" in German, "1,258.90" in English.
timeline_amount_grouped = _Amount(grouped=True)


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def timeline_choice(
    choices: type[Choices] | Mapping[Any, Any] | Iterable[tuple[Any, Any]],
) -> Format:
    """A code shown as its label (a model's choices or a mapping); unknown codes as they are."""
    if isinstance(choices, type) and issubclass(choices, Choices):
        labels: dict[Any, Any] = dict(choices.choices)
    else:
        labels = dict(choices)  # type: ignore[arg-type]
    return lambda code: str(labels.get(code, code))


def timeline_list(each: Format | None = None, *, separator: str = ", ") -> Format:
    """A list of values shown one after the other (each with ``each``)."""

    def show(values: Any) -> str:
        if isinstance(values, str):
            return values
        return separator.join(str(each(v) if each else v) for v in values)

    return show
