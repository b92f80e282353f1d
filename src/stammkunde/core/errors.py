"""The small exception hierarchy that services raise and every entry point maps.

The API turns these into 400 responses with field errors, forms into form
errors, the CLI into a message and a non-zero exit.
"""

from __future__ import annotations


class ApplicationError(Exception):
    """A business rule refused the request; ``code`` is stable, ``message`` is for people."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        field_errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field_errors = field_errors or {}


class ConflictError(ApplicationError):
    """The object changed since the caller read it (optimistic locking)."""


def validated(obj: object, *, exclude: list[str] | None = None) -> None:
    """Run ``full_clean`` on a model instance and raise ApplicationError with field errors."""
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean(exclude=exclude)  # type: ignore[attr-defined]
    except ValidationError as exc:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        raise ApplicationError(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()),
            code="invalid",
            field_errors=fields,
        ) from exc
