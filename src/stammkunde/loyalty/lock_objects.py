"""Row locks for loyalty writes, in one place so that the lock order is fixed.

Every function returns a ``select_for_update`` queryset ordered by primary key:
two transactions that lock several accounts (a referral rewards two) always
lock them in the same order and cannot deadlock. Callers must be inside
``transaction.atomic``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from stammkunde.core.access import User, access_object

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
    """Lock and return one account (raises DoesNotExist).

    With ``user`` the account must also be visible to that user (else Http404): the
    visibility check and the lock are one query, which matters on the till's hot path.
    """
    if user is None:
        return accounts_for_update([pk]).get()
    return access_object(accounts_for_update([pk]), user, pk=pk)


def voucher_for_update(code: str) -> Voucher | None:
    """Lock and return the voucher with ``code``, or None."""
    return Voucher.objects.select_for_update(of=("self",)).filter(code=code).first()
