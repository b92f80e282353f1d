"""The OpenAPI schema class (its own module: DRF imports it while its views module loads)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent

_ERROR_SCHEMA = {
    "type": "object",
    "description": "A refused request: a message, a stable code, and the fields at fault.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "field_errors": {"type": "object", "additionalProperties": True},
    },
    "additionalProperties": True,
}
_ERROR_DESCRIPTIONS = {
    "400": "Bad input; the fields at fault are named.",
    "401": "No or an unknown token or session.",
    "403": "The role may not do this.",
    "404": "Not found, or not visible to this user.",
    "409": "Conflict with the stored state (changed meanwhile, key reused).",
    "415": "The body is not in a media type the operation reads.",
    "429": "Too many requests; retry later.",
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema plus the error answers every operation can give.

    ``core.api.exception_handler`` answers bad input with 400, conflicts with 409, and DRF
    answers 401/403/404; documenting them makes the schema the whole contract
    (the API fuzzing checks that every status code received is documented).
    """

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        component = ResolvedComponent(
            name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=_ERROR_SCHEMA
        )
        self.registry.register_on_missing(component)
        for code in self._error_codes(operation):
            responses.setdefault(
                code,
                {
                    "description": _ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": component.ref}},
                },
            )
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> list[str]:
        codes = ["401", "403"]
        parameters = operation.get("parameters", [])
        has_query = any(p.get("in") == "query" for p in parameters)
        has_path = any(p.get("in") == "path" for p in parameters)
        writes = self.method in ("POST", "PUT", "PATCH", "DELETE")
        if writes or has_query or has_path:
            codes.append("400")
        if has_path or self.method == "GET":
            codes.append("404")  # an unknown id, or an invalid page cursor
        if writes:
            codes.append("409")
        if "requestBody" in operation:
            codes.append("415")
        if getattr(self.view, "throttle_classes", None):
            codes.append("429")
        return codes
