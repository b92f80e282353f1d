"""The texts commerce writes on the customer timeline (keys and parameters, see
``customers.timeline_texts``): registered in ``CommerceConfig.ready``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

ORDER_TEXT = "commerce.order"
RETURN_TEXT = "commerce.return"


def order_text_params(*, number: str, total: Decimal) -> dict[str, Any]:
    """The parameters of an order's timeline entry (the total as a string, e.g. "1258.90")."""
    return {"number": number, "total": str(total)}


def return_text_params(*, order_number: str, reason: str) -> dict[str, Any]:
    """The parameters of a return's timeline entry (the reason as its code)."""
    return {"number": order_number, "reason": reason}


def timeline_texts_register() -> None:
    from stammkunde.customers.services import (
        timeline_amount,
        timeline_choice,
        timeline_text_register,
    )

    from .models import Return

    timeline_text_register(ORDER_TEXT, _("Order %(number)s: %(total)s EUR"), total=timeline_amount)
    timeline_text_register(
        RETURN_TEXT,
        _("Return from order %(number)s: %(reason)s"),
        reason=timeline_choice(Return.Reason),
    )
