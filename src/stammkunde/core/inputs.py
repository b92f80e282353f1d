"""Bad input stops at the door: one check for every query string, form and JSON body.

A NUL byte cannot be stored in a PostgreSQL text column (the query fails with a
DataError, so the page answers 500); a lone surrogate cannot be encoded at all;
other control characters are never typed by a person and only make trouble
later (exports, mails, logs). Instead of guarding every view and search, the
:class:`InputGuardMiddleware` refuses such requests before a view runs:

* the path, query parameters, form fields and JSON bodies may contain no C0
  control character except tab, CR and LF, and no lone surrogate;
* query parameters are at most ``INPUT_MAX_QUERY_LENGTH`` characters (1,000),
  form fields and JSON strings at most ``INPUT_MAX_FIELD_LENGTH`` (100,000);
* a query string or form body must be valid UTF-8 (Django would quietly turn
  the bytes into U+FFFD);
* JSON is nested at most ``INPUT_MAX_JSON_DEPTH`` levels (32).

The answer is a 400 that names the field: a JSON body ``{"field": ["…"]}`` in
the API's error shape for API requests, a page listing the fields otherwise.
Cookies with such characters are dropped rather than refused (the browser
would send them again on every request).

:class:`JSONParser`, DRF's default parser, applies the same rules to bodies the
middleware leaves to it (API views that use it), and turns a body nested
deeper than Python's recursion limit into a 400 instead of a RecursionError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

from .errors import ApplicationError

# C0 controls without tab (09), LF (0a) and CR (0d); lone surrogates.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
#: What may not be stored as text (imports strip it from their messages).
FORBIDDEN_CHARACTERS = _FORBIDDEN
_JSON_TYPES = ("application/json", "application/merge-patch+json", "application/problem+json")


def max_query_length() -> int:
    return int(getattr(settings, "INPUT_MAX_QUERY_LENGTH", 1_000))


def max_field_length() -> int:
    return int(getattr(settings, "INPUT_MAX_FIELD_LENGTH", 100_000))


def max_json_depth() -> int:
    return int(getattr(settings, "INPUT_MAX_JSON_DEPTH", 32))


def text_problem(value: str, *, max_length: int) -> str | None:
    """Return why ``value`` cannot be accepted (for people), or None when it is fine."""
    found = _FORBIDDEN.search(value)
    if found:
        code = ord(found.group())
        if code == 0:
            return _("Contains a NUL character, which is not allowed.")
        if 0xD800 <= code <= 0xDFFF:
            return _("Contains an invalid character (a lone surrogate).")
        return _(
            "Contains a control character (U+%(code)04X); only tab and line breaks are allowed."
        ) % {"code": code}
    if len(value) > max_length:
        return _("Too long: at most %(max)d characters (this has %(length)d).") % {
            "max": max_length,
            "length": len(value),
        }
    return None


def _shown(name: str) -> str:
    """A field name safe to echo back (its bad characters replaced)."""
    return _FORBIDDEN.sub("?", name)[:100] or "?"


def _add(problems: dict[str, list[str]], name: str, message: str) -> None:
    problems.setdefault(_shown(name), []).append(message)


def pairs_problems(pairs: Iterator[tuple[str, str]], *, max_length: int) -> dict[str, list[str]]:
    """Problems of ``(name, value)`` pairs (query parameters, form fields), by name."""
    problems: dict[str, list[str]] = {}
    for name, value in pairs:
        for text, limit in ((name, 200), (value, max_length)):
            message = text_problem(text, max_length=limit)
            if message:
                _add(problems, name, message)
                break
    return problems


def raw_query_problems(raw: str) -> dict[str, list[str]]:
    """Names of parameters whose percent-encoded bytes are not UTF-8.

    ``raw`` is the WSGI query string (latin-1 text of the bytes). Django decodes
    it with ``errors="replace"``; the raw bytes are the only place to see it.
    """
    problems: dict[str, list[str]] = {}
    if raw.isascii() and "%" not in raw:
        return problems
    for pair in raw.split("&"):
        name, _sep, value = pair.partition("=")
        name_bytes = unquote_to_bytes(name.replace("+", " "))
        try:
            name_bytes.decode("utf-8")
            unquote_to_bytes(value.replace("+", " ")).decode("utf-8")
        except UnicodeDecodeError:
            _add(problems, name_bytes.decode("utf-8", "replace"), _("Not valid UTF-8 text."))
    return problems


def json_problems(
    data: Any,
    *,
    max_depth: int | None = None,
    max_length: int | None = None,
    check_text: bool = True,
) -> dict[str, list[str]]:
    """Problems of a decoded JSON value, by dotted path (``lines.2.sku``); empty when fine.

    ``check_text=False`` checks the nesting only (imports check their text themselves).
    """
    depth_limit = max_json_depth() if max_depth is None else max_depth
    length_limit = max_field_length() if max_length is None else max_length
    problems: dict[str, list[str]] = {}

    def walk(value: Any, path: str, depth: int) -> None:
        if depth > depth_limit:
            _add(
                problems,
                path or "body",
                _("Nested too deeply: at most %(max)d levels.") % {"max": depth_limit},
            )
            return
        if isinstance(value, str):
            if not check_text:
                return
            message = text_problem(value, max_length=length_limit)
            if message:
                _add(problems, path or "body", message)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                message = text_problem(str(key), max_length=200) if check_text else None
                if message:
                    _add(problems, child, message)
                    continue
                walk(item, child, depth + 1)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}.{index}" if path else str(index), depth + 1)

    walk(data, "", 1)
    return problems


def _body_refused(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_input", field_errors={"body": [message]})


def json_loads_checked(raw: bytes | str) -> Any:
    """Decode a JSON body; raise ApplicationError with field errors for bad input."""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise _body_refused(_("Not valid UTF-8 text.")) from exc
    try:
        data = json.loads(text)
    except RecursionError as exc:
        message = _("Nested too deeply: at most %(max)d levels.") % {"max": max_json_depth()}
        raise _body_refused(message) from exc
    problems = json_problems(data)
    if problems:
        raise ApplicationError(_bad_input_text(), code="invalid_input", field_errors=problems)
    return data


def _bad_input_text() -> str:
    return _("The request contains input that cannot be processed.")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the input rules: 400 with field errors, never 500."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError(_("JSON parse error - the body is not valid UTF-8.")) from exc
        try:
            data = json.loads(text)
        except RecursionError as exc:
            message = _("Nested too deeply: at most %(max)d levels.") % {"max": max_json_depth()}
            raise ValidationError({"body": [message]}) from exc
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc
        problems = json_problems(data)
        if problems:
            raise ValidationError(problems)
        return data


def _is_json(request: HttpRequest) -> bool:
    content_type = request.content_type or ""
    return content_type in _JSON_TYPES or content_type.endswith("+json")


def _drf_parses_json(view_func: Callable[..., Any]) -> bool:
    """True when the view is a DRF view whose JSON parser is :class:`JSONParser`."""
    view_class = getattr(view_func, "cls", None)
    parser_classes = getattr(view_class, "parser_classes", None)
    if not parser_classes:
        return False
    return any(isinstance(p, type) and issubclass(p, JSONParser) for p in parser_classes)


def _wants_json(request: HttpRequest, view_func: Callable[..., Any] | None) -> bool:
    if request.path_info.startswith("/api/") or getattr(view_func, "cls", None) is not None:
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def bad_input_response(
    request: HttpRequest,
    problems: dict[str, list[str]],
    view_func: Callable[..., Any] | None = None,
) -> HttpResponse:
    """The 400 for refused input: the API's error shape, or a page naming the fields."""
    if _wants_json(request, view_func):
        from .api import application_error_body

        body = application_error_body(
            ApplicationError(_bad_input_text(), code="invalid_input", field_errors=problems)
        )
        return JsonResponse(body, status=400)
    html = render_to_string(
        "core/bad_input.html",
        {"problems": sorted(problems.items()), "message": _bad_input_text()},
        request=request,
    )
    return HttpResponse(html, status=400)


class InputGuardMiddleware:
    """Refuse requests with control characters, overlong values or broken encodings (400).

    Placed before the session middleware, so a broken cookie is dropped before
    it is looked up. The checks run in ``process_view``: after every
    middleware's request phase (the locale is active, the answer is in the
    user's language) and before any view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A cookie is sent again with every request: drop a broken one instead of
        # refusing every page. Django's sessions would look it up in the database.
        for name in [n for n, v in request.COOKIES.items() if _FORBIDDEN.search(n + v)]:
            del request.COOKIES[name]
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        problems = self.problems(request, view_func)
        if problems:
            return bad_input_response(request, problems, view_func)
        return None

    def problems(self, request: HttpRequest, view_func: Callable[..., Any]) -> dict[str, list[str]]:
        """Every refused input of ``request``, by field name."""
        path_problem = text_problem(request.path_info, max_length=2_000)
        if path_problem:
            return {"path": [path_problem]}
        problems = raw_query_problems(request.META.get("QUERY_STRING", ""))
        problems.update(
            pairs_problems(
                ((k, v) for k, values in request.GET.lists() for v in values),
                max_length=max_query_length(),
            )
        )
        if problems or request.method in ("GET", "HEAD", "OPTIONS"):
            return problems
        content_type = request.content_type
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            problems.update(self._form_problems(request))
        elif _is_json(request) and not _drf_parses_json(view_func):
            problems.update(self._json_problems(request))
        return problems

    def _form_problems(self, request: HttpRequest) -> dict[str, list[str]]:
        if request.content_type == "application/x-www-form-urlencoded":
            try:
                body = request.body
            except RequestDataTooBig:
                return {}  # Django answers it with its own 400
            problems = raw_query_problems(body.decode("latin-1"))
            if problems:
                return problems
        # Upload file names need no check: Django drops their non-printable characters.
        return pairs_problems(
            ((k, v) for k, values in request.POST.lists() for v in values),
            max_length=max_field_length(),
        )

    def _json_problems(self, request: HttpRequest) -> dict[str, list[str]]:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return {}  # left to the view's own limits
        try:
            json_loads_checked(request.body)
        except ApplicationError as exc:
            return exc.field_errors
        except ValueError:
            return {}  # malformed JSON: the view says so in its own words
        return {}
