"""Points for orders and returns stored in bulk (imports): the ``orders_created`` and
``returns_created`` hooks.

The same bookings as the single-write hooks ``order_created`` and
``return_created`` (``points_accrue_for_order``, ``points_reverse_for_return``),
so an imported order earns what a created one earns: its points, the
first-purchase bonus, referral rewards, stamps, the tier. Set-based where it
decides: one statement finds the members among a batch's customers, and only
their orders (oldest first, as a shop would have sent them one by one) are
booked; a batch without members costs that one statement.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from stammkunde.commerce.selectors import orders_of_ids, returns_of_ids

from ..models import LoyaltyAccount
from .orders import points_accrue_for_order
from .points import points_reverse_for_return


def _members(customer_ids: Sequence[int]) -> list[int]:
    """The customers among ``customer_ids`` with an account in an active program."""
    found: set[int] = set()
    ids = list(customer_ids)
    for start in range(0, len(ids), 900):  # below SQLite's parameter limit
        found.update(
            LoyaltyAccount.objects.filter(
                customer_id__in=ids[start : start + 900], program__active=True
            ).values_list("customer_id", flat=True)
        )
    return sorted(found)


@transaction.atomic
def points_accrue_for_orders(*, order_ids: Sequence[int], customer_ids: Sequence[int]) -> int:
    """Credit the points of the members' orders among ``order_ids``; return how many were booked."""
    members = _members(customer_ids)
    if not members:
        return 0
    booked = 0
    for order in orders_of_ids(ids=order_ids, customer_ids=members):
        if points_accrue_for_order(order) is not None:
            booked += 1
    return booked


@transaction.atomic
def points_reverse_for_returns(*, return_ids: Sequence[int], customer_ids: Sequence[int]) -> int:
    """Take back the points of the members' returns among ``return_ids``; return how many."""
    members = _members(customer_ids)
    if not members:
        return 0
    booked = 0
    for ret in returns_of_ids(ids=return_ids, customer_ids=members):
        if points_reverse_for_return(ret=ret) is not None:
            booked += 1
    return booked
