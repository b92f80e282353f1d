"""Accounts and programs: enrolment, self-service links, program set-up, erasure."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import signing
from django.db import transaction
from django.utils import timezone

from stammkunde.core.access import User
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ApplicationError
from stammkunde.core.sequences import counter_next
from stammkunde.customers.models import Customer

from ..cards import card_number_for, random_code
from ..models import (
    LoyaltyAccount,
    LoyaltyProgram,
    PointsEntry,
    Referral,
    Tier,
    Voucher,
)
from ._common import _fail
from .rules import TIER_FIELDS, tiers_apply, tiers_check
from .tiers import _tier_apply


def program_default() -> LoyaltyProgram | None:
    """Return the active program (the first by name when several are active)."""
    return LoyaltyProgram.objects.filter(active=True).order_by("name").first()


@transaction.atomic
def account_enroll(
    *,
    customer: Customer,
    program: LoyaltyProgram | None = None,
    actor: User | None = None,
    at: dt.datetime | None = None,
    referral_code: str = "",
) -> LoyaltyAccount:
    """Give ``customer`` a card in ``program`` (the active one by default); idempotent.

    With ``referral_code`` the new member is linked to the referrer; both are
    rewarded after the new member's first paid order.
    """
    program = program or program_default()
    if program is None:
        raise _fail("program", "There is no active loyalty program.", "no_program")
    existing = LoyaltyAccount.objects.filter(customer=customer, program=program).first()
    if existing is not None:
        return existing
    referrer = None
    if referral_code:
        referrer = LoyaltyAccount.objects.filter(
            referral_code=referral_code.strip().upper(), program=program
        ).first()
        if referrer is None or referrer.customer_id == customer.pk:
            raise _fail("referral_code", "Unknown referral code.", "referral_code")
    at = at or timezone.now()
    account = LoyaltyAccount.objects.create(
        customer=customer,
        program=program,
        card_number=card_number_for(counter_next("loyalty_card")),
        referral_code=random_code(8),
        enrolled_at=at,
    )
    _tier_apply(account, today=timezone.localtime(at).date(), review=False)
    if referrer is not None:
        Referral.objects.create(referrer=referrer, referee=account, created_at=at)
    audit_record(
        actor=actor,
        action="create",
        obj=account,
        customer_id=customer.pk,
        changes={"card_number": [None, account.card_number]},
    )
    return account


# --- points ----------------------------------------------------------------------------------


# --- self-service links -------------------------------------------------------------------


_SELF_SERVICE_SALT = "stammkunde.loyalty.self-service"
SELF_SERVICE_MAX_AGE = 60 * 60 * 24 * 90


def self_service_token(account: LoyaltyAccount) -> str:
    """Return the signed token of the customer's self-service link (valid 90 days)."""
    return signing.TimestampSigner(salt=_SELF_SERVICE_SALT).sign(str(account.pk))


def self_service_account_id(token: str) -> int | None:
    """Return the account id a token was signed for, or None when invalid or too old."""
    try:
        value = signing.TimestampSigner(salt=_SELF_SERVICE_SALT).unsign(
            token, max_age=SELF_SERVICE_MAX_AGE
        )
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


# --- program configuration -----------------------------------------------------------------


def _tier_rows(formset: Any) -> tuple[list[dict[str, Any]], list[int]]:
    """The rows of a tier formset for ``rules.tiers_check``, and each row's form index.

    Empty extra rows and new rows crossed out again are left out; a tier the
    formset does not list stays as it is (and is checked with the others).
    """
    rows: list[dict[str, Any]] = []
    index: list[int] = []
    for i, form in enumerate(formset.forms):
        cleaned = getattr(form, "cleaned_data", None) or {}
        pk = form.instance.pk if i < formset.initial_form_count() else None
        deleted = bool(formset.can_delete and cleaned.get("DELETE"))
        if pk is None and (not cleaned or deleted or not form.has_changed()):
            continue
        values = {f: cleaned[f] for f in TIER_FIELDS if f in cleaned}
        rows.append({"id": pk, "delete": deleted, **values})
        index.append(i)
    return rows, index


def _on_form_rows(exc: ApplicationError, index: list[int]) -> ApplicationError:
    """``exc`` with ``tiers.<n>.<field>`` keyed by the formset's form index, not row ``n``."""
    fields: dict[str, list[str]] = {}
    for key, messages in exc.field_errors.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "tiers" and parts[1].isdigit():
            key = f"tiers.{index[int(parts[1])]}.{parts[2]}"
        fields.setdefault(key, []).extend(messages)
    return ApplicationError(exc.message, code=exc.code, field_errors=fields)


@transaction.atomic
def program_configure(*, actor: User, program_form: Any, formsets: list[Any]) -> LoyaltyProgram:
    """Save a program and its tiers, category multipliers and stamp cards in one step.

    The forms are validated by the caller; this saves them together (all or
    nothing). The tiers (the formset of ``Tier``) are checked and written by
    ``rules.tiers_check``/``tiers_apply``, as on the settings page: a threshold
    not above the one of the tier beneath it, a duplicate name or rank, or a
    tier with members crossed out is refused with ApplicationError keyed
    ``tiers.<form index>.<field>``, and nothing is saved. Audited: the program
    form, and each tier created, changed or deleted.
    """
    instance = program_form.instance
    locked = (
        LoyaltyProgram.objects.select_for_update().get(pk=instance.pk)
        if instance.pk is not None
        else None
    )
    tier_formsets = [f for f in formsets if f.model is Tier]
    checked = []
    for formset in tier_formsets:
        rows, index = _tier_rows(formset)
        try:
            checked.append(tiers_check(locked, rows))
        except ApplicationError as exc:
            raise _on_form_rows(exc, index) from exc
    program = program_form.save()
    for changes in checked:
        tiers_apply(actor=actor, program=program, changes=changes)
    for formset in formsets:
        if formset.model is Tier:
            continue
        formset.instance = program
        formset.save()
    audit_record(
        actor=actor,
        action="update" if locked is not None else "create",
        obj=program,
        changes={k: [None, str(v)] for k, v in program_form.cleaned_data.items()},
    )
    return program


@transaction.atomic
def customer_data_erase(*, customer: Customer) -> dict[str, int]:
    """Blank the free texts of ``customer``'s bookings and vouchers (DSGVO Art. 17).

    The ledger rows themselves stay unchanged in points and balance, so the
    programme's sums and liabilities stay right; only the reasons staff typed
    (which may name the person) go.
    """
    return {
        "points_reasons": PointsEntry.objects.filter(account__customer=customer)
        .exclude(reason="")
        .update(reason=""),
        "voucher_reasons": Voucher.objects.filter(customer=customer)
        .exclude(reason="")
        .update(reason=""),
    }
