"""Shared API pieces: cursor pagination and the error mapping (400, never 500)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import DjangoModelPermissions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ApplicationError, ConflictError


class IdCursorPagination(CursorPagination):
    """Keyset pagination on the primary key: constant time on any page at 1M rows."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Any) -> int | None:
        """The ``page_size`` asked for; anything but a whole number from 1 to 500 is a 400.

        DRF quietly falls back to the default page size; a client that sends
        ``page_size=abc`` should learn that it was not understood.
        """
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 0 < int(raw) <= self.max_page_size:
            message = _("A whole number from 1 to %(max)d.") % {"max": self.max_page_size}
            raise ValidationError({self.page_size_query_param: [message]})
        return int(raw)


# Keys of an error body that belong to the error itself; a field of that name
# (a voucher's ``code``) is named under ``field_errors`` only.
_ERROR_KEYS = frozenset({"detail", "code", "field_errors"})


def application_error_body(exc: ApplicationError) -> dict[str, Any]:
    """The body of a refused request: message, stable code, and the fields at fault.

    Field errors stand at the top level as DRF puts them, and all of them under
    ``field_errors``, so a field called ``code`` never overwrites the error code.
    """
    body: dict[str, Any] = {
        name: errors for name, errors in exc.field_errors.items() if name not in _ERROR_KEYS
    }
    body["detail"] = exc.message
    body["code"] = exc.code
    if exc.field_errors:
        body["field_errors"] = exc.field_errors
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map service and model errors to 400/409 with field errors instead of 500."""
    if isinstance(exc, RequestDataTooBig):
        exc = ValidationError({"body": [body_too_big_problem()]})
    if isinstance(exc, ConflictError):
        return Response(application_error_body(exc), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ApplicationError):
        return Response(application_error_body(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        return Response(
            {"detail": "The data conflicts with an existing record.", "code": "integrity"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        response.data = _validation_body(response.data)
    return response


def body_too_big_problem() -> str:
    """The message for a request body above ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (JSON, form fields)."""
    return _("The request body is larger than the limit of %(max)s MB.") % {
        "max": number_format(settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024), 1),
    }


def _validation_body(data: Any) -> dict[str, Any]:
    """A serializer's errors in the one error shape (``detail`` and ``code`` are strings)."""
    if not isinstance(data, dict):
        messages = data if isinstance(data, list) else [data]
        return {"detail": " ".join(str(m) for m in messages), "code": "invalid"}
    return application_error_body(
        ApplicationError(str(_("Invalid input.")), code="invalid", field_errors=dict(data))
    )


class RolePermissions(DjangoModelPermissions):
    """Model permissions from the user's roles, including ``view`` for reads.

    Object visibility is not decided here but by the model's ``visible_to``.
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
    }


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 404 page; under ``/api/`` the JSON error body the schema documents.

    A path the router does not match (``/api/tickets/1.5/``) never reaches DRF,
    so Django would answer its HTML page to an API client.
    """
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(_("Not found.")), "code": "not_found"}, status=404)
    return page_not_found(request, exception or Http404())
