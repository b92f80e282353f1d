"""Service-desk use cases; import from here (``from stammkunde.service import services``)."""

from .events import notifications_mark_read
from .goodwill import (
    goodwill_decide,
    goodwill_limit_of,
    goodwill_request,
    sales_handover_create,
)
from .replies import macro_apply, placeholder_values, template_for, template_render
from .tickets import (
    ALLOWED_ATTACHMENT_TYPES,
    MAX_ATTACHMENT_BYTES,
    UNSET,
    TicketLinks,
    attachment_add,
    ticket_change,
    ticket_close,
    ticket_create,
    ticket_merge,
    ticket_reply,
    ticket_solve,
    ticket_split,
)

__all__ = [
    "ALLOWED_ATTACHMENT_TYPES",
    "MAX_ATTACHMENT_BYTES",
    "UNSET",
    "TicketLinks",
    "attachment_add",
    "goodwill_decide",
    "goodwill_limit_of",
    "goodwill_request",
    "macro_apply",
    "notifications_mark_read",
    "placeholder_values",
    "sales_handover_create",
    "template_for",
    "template_render",
    "ticket_change",
    "ticket_close",
    "ticket_create",
    "ticket_merge",
    "ticket_reply",
    "ticket_solve",
    "ticket_split",
]
