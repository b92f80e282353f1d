"""Service-desk use cases; import from here (``from stammkunde.service import services``)."""

from .attachments import ALLOWED_ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES, attachment_add
from .changes import ticket_change, ticket_close, ticket_solve
from .conversation import ticket_reply
from .events import notifications_mark_read
from .goodwill import (
    goodwill_decide,
    goodwill_limit_of,
    goodwill_limits_for,
    goodwill_request,
    sales_handover_create,
)
from .intake import ticket_create
from .merging import ticket_merge, ticket_split
from .personal import closed_ticket_texts_expire, customer_data_erase
from .replies import macro_apply, placeholder_values, template_for, template_render
from .ticket_state import UNSET, TicketLinks, ticket_number_format

__all__ = [
    "ALLOWED_ATTACHMENT_TYPES",
    "MAX_ATTACHMENT_BYTES",
    "UNSET",
    "TicketLinks",
    "attachment_add",
    "closed_ticket_texts_expire",
    "customer_data_erase",
    "goodwill_decide",
    "goodwill_limit_of",
    "goodwill_limits_for",
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
    "ticket_number_format",
    "ticket_reply",
    "ticket_solve",
    "ticket_split",
]
