"""Row locks for loyalty writes, in one place so that the lock order is fixed.

Every function returns a ``select_for_update`` queryset ordered by primary key:
two transactions that lock several accounts (a referral rewards two) always
lock them in the same order and cannot deadlock. Callers must be inside
``transaction.atomic``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.db.models import QuerySet
from django.http import Http404

from stammkunde.core.access import User, access_object
from stammkunde.core.db import rows_fetch

from .models import LoyaltyAccount, Voucher


def accounts_for_update(pks: Iterable[int]) -> QuerySet[LoyaltyAccount]:
    """Lock the given accounts, lowest primary key first."""
    # The program comes along (not locked): every ledger rule reads it.
    return (
        LoyaltyAccount.objects.select_for_update(of=("self",))
        .select_related("program")
        .filter(pk__in=list(pks))
        .order_by("pk")
    )


def account_for_update(pk: int, *, user: User | None = None) -> LoyaltyAccount:
    """Lock and return one account with its program (raises DoesNotExist).

    With ``user`` the account must also be visible to that user (else Http404).
    Every booking starts here, so the common case is one lean statement
    (``core.db``): no user, or a user who sees all accounts.
    """
    if user is not None:
        visible = LoyaltyAccount.objects.visible_to(user)
        if visible.query.is_empty():
            raise Http404("Not found")
        if visible.query.has_filters():
            return access_object(cast(Any, accounts_for_update([pk])), user, pk=pk)
    found = rows_fetch(LoyaltyAccount, "r.id = %s", [pk], join="program", for_update=True)
    if not found:
        if user is not None:
            raise Http404("Not found")
        raise LoyaltyAccount.DoesNotExist(f"no loyalty account {pk}")
    return found[0]


def voucher_for_update(code: str) -> Voucher | None:
    """Lock and return the voucher with ``code``, or None."""
    return Voucher.objects.select_for_update(of=("self",)).filter(code=code).first()
