"""Normalisation of contact data so that matching and deduplication are exact."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _


def normalize_phone(raw: str, *, region: str = "DE") -> str:
    """Return a phone number in E.164, or raise ValidationError with a clear message."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("“%(value)s” is not a phone number.") % {"value": raw}) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("“%(value)s” is not a valid phone number.") % {"value": raw})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    """Return the address stripped and lower-cased, or raise ValidationError."""
    address = raw.strip().lower()
    validate_email(address)
    return address


def format_phone(e164: str) -> str:
    """Return an E.164 number in international display format."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164
