"""The two-phase checkout: a signed quote, then one all-or-nothing commit."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.errors import ConflictError

from .. import lock_objects
from ..models import (
    CheckoutBooking,
    LoyaltyAccount,
    PointsEntry,
    VoucherRedemption,
)
from ._common import (
    Kind,
    _currency_check,
    _fail,
    _key_check,
    amount_parse,
    points_parse,
    points_value,
)
from ._ledger import _spend
from .vouchers import voucher_quote, voucher_redeem

QUOTE_MAX_AGE_SECONDS = 15 * 60


@dataclass(frozen=True)
class CheckoutQuote:
    """What a checkout may redeem; ``token`` is signed and carries the terms to commit."""

    token: str
    account_id: int
    order_total: Decimal
    points: int
    points_amount: Decimal
    voucher_code: str
    voucher_discount: Decimal
    payable: Decimal
    balance: int


@dataclass(frozen=True)
class CheckoutResult:
    account_id: int
    points: int
    points_amount: Decimal
    voucher_discount: Decimal
    balance: int
    replayed: bool


_QUOTE_SALT = "stammkunde.loyalty.checkout"


def checkout_quote(
    *,
    account: LoyaltyAccount,
    order_total: Any,
    points: Any = None,
    voucher_code: str = "",
    currency: str = "EUR",
    at: dt.datetime | None = None,
) -> CheckoutQuote:
    """Price a checkout: the voucher first, then points up to the rest (books nothing).

    ``points`` None redeems as many as the balance and the order allow. The
    returned token is valid for 15 minutes and is what ``checkout_commit`` books,
    once: it carries a random quote id (128 bits), so two equal baskets priced in
    the same second are still two quotes.
    """
    account = LoyaltyAccount.objects.select_related("program", "customer").get(pk=account.pk)
    program = account.program
    _currency_check(program.currency, currency)
    total = amount_parse(order_total, field="order_total", allow_zero=False)
    discount = Decimal("0.00")
    code = (voucher_code or "").strip().upper()
    if code:
        discount = voucher_quote(
            code=code, order_total=total, customer=account.customer, currency=currency, at=at
        ).discount
    rest = total - discount
    affordable = int((rest / program.point_value).to_integral_value(ROUND_FLOOR))
    balance = account.balance
    if points is None:
        wanted = min(balance, affordable)
        if wanted < program.min_redeem_points:
            wanted = 0
    else:
        wanted = points_parse(points)
        if wanted > balance:
            raise _fail("points", f"Only {balance} points are available.", "insufficient_points")
        if wanted > affordable:
            raise _fail(
                "points", f"At most {affordable} points fit this order.", "points_above_order"
            )
        if wanted < program.min_redeem_points:
            raise _fail(
                "points", f"At least {program.min_redeem_points} points.", "points_below_minimum"
            )
    value = points_value(wanted, program)
    token = signing.dumps(
        {
            "a": account.pk,
            "t": str(total),
            "p": wanted,
            "v": code,
            "c": currency,
            "n": secrets.token_urlsafe(16),
        },
        salt=_QUOTE_SALT,
        compress=True,
    )
    return CheckoutQuote(
        token=token,
        account_id=account.pk,
        order_total=total,
        points=wanted,
        points_amount=value,
        voucher_code=code,
        voucher_discount=discount,
        payable=rest - value,
        balance=balance,
    )


def _quote_terms(token: str, account: LoyaltyAccount | None) -> dict[str, Any]:
    """Return the terms a quote token was signed with, or raise ApplicationError."""
    try:
        terms = signing.loads(token, salt=_QUOTE_SALT, max_age=QUOTE_MAX_AGE_SECONDS)
    except signing.SignatureExpired as exc:
        raise _fail("quote", "The quote has expired; ask for a new one.", "quote_expired") from exc
    except signing.BadSignature as exc:
        raise _fail("quote", "Not a valid quote.", "quote_invalid") from exc
    if account is not None and terms["a"] != account.pk:
        raise _fail("quote", "The quote is for another account.", "quote_invalid")
    if not isinstance(terms.get("n"), str) or not terms["n"]:
        # Signed before quotes carried an id (at most 15 minutes before an upgrade).
        raise _fail("quote", "The quote has expired; ask for a new one.", "quote_expired")
    return dict(terms)


def _checkout_replay(booked: CheckoutBooking, key: str) -> CheckoutResult:
    """The first answer for the same key; any other key finds the quote used."""
    if booked.idempotency_key != key:
        raise ConflictError(
            _("This quote has already been booked; ask for a new quote for a new sale."),
            code="quote_used",
        )
    return CheckoutResult(
        account_id=booked.account_id,
        points=booked.points,
        points_amount=booked.points_amount,
        voucher_discount=booked.voucher_discount,
        balance=booked.balance_after,
        replayed=True,
    )


@transaction.atomic
def checkout_commit(
    *, token: str, idempotency_key: str, reference: str = "", account: LoyaltyAccount | None = None
) -> CheckoutResult:
    """Book a quote: redeem its points and use its voucher, all or nothing, once.

    A quote books once whatever key comes with it: the same key replays the
    first answer, another key raises ConflictError ``quote_used`` and books
    nothing; a key already used for another booking of the account raises
    ``idempotency_key_reused``. Commits of one account run one after the other
    under its row lock; the unique quote id is the backstop. With ``account``
    the token must belong to that account (the API passes the account from the
    URL so a token cannot be replayed against another card).
    """
    key = _key_check(idempotency_key)
    terms = _quote_terms(token, account)
    locked = lock_objects.account_for_update(terms["a"])
    # Own statements after the lock (READ COMMITTED): they see a twin's committed booking.
    booked = CheckoutBooking.objects.filter(quote_id=terms["n"]).first()
    if booked is not None:
        return _checkout_replay(booked, key)
    points, code = int(terms["p"]), terms["v"]
    voucher_key = f"checkout:{locked.pk}:{key}"
    if (
        CheckoutBooking.objects.filter(account=locked, idempotency_key=key).exists()
        or PointsEntry.objects.filter(account=locked, idempotency_key=key).exists()
        or VoucherRedemption.objects.filter(idempotency_key=voucher_key).exists()
    ):
        raise ConflictError(
            "This idempotency key was used for a different checkout.",
            code="idempotency_key_reused",
        )
    discount = Decimal("0.00")
    if code:
        discount = voucher_redeem(
            code=code,
            order_total=terms["t"],
            idempotency_key=voucher_key,
            customer=locked.customer,
            currency=terms["c"],
            reference=reference,
        ).redemption.discount
    at = timezone.now()
    if points:
        _spend(
            locked,
            kind=Kind.REDEEM,
            points=points,
            key=key,
            at=at,
            reason=f"checkout {reference}".strip(),
            amount=points_value(points, locked.program),
        )
    try:
        with transaction.atomic():
            CheckoutBooking.objects.create(
                quote_id=terms["n"],
                account=locked,
                idempotency_key=key,
                points=points,
                points_amount=points_value(points, locked.program),
                voucher_discount=discount,
                balance_after=locked.balance,
                reference=reference[:100],
                created_at=at,
            )
    except IntegrityError as exc:
        # Only without the row lock (SQLite) can a twin get here; the whole commit rolls back.
        raise ConflictError(
            _("This quote has already been booked; ask for a new quote for a new sale."),
            code="quote_used",
        ) from exc
    return CheckoutResult(
        account_id=locked.pk,
        points=points,
        points_amount=points_value(points, locked.program),
        voucher_discount=discount,
        balance=locked.balance,
        replayed=False,
    )
