"""Normalisation of contact data so that matching and deduplication are exact."""

from __future__ import annotations

import re
import unicodedata

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


# ä/ö/ü as Germans write them without umlauts; casefold() already turns ß into ss.
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "æ": "ae", "œ": "oe", "ø": "o"})
_NOT_WORD = re.compile(r"[\W_]+")


def search_fold(text: str) -> str:
    """Return ``text`` as customer search compares it.

    Lower case, umlauts transliterated (ü → ue, ß → ss), other accents dropped
    (é → e), anything but letters and digits one space: "Müller", "Mueller" and
    "MUELLER" fold alike, so a search finds a name however it was typed.
    """
    lowered = text.casefold().translate(_UMLAUTS)
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c)
    )
    return _NOT_WORD.sub(" ", plain).strip()


def search_text(*parts: str) -> str:
    """Return the stored search key of a customer: its name parts folded, in the given order."""
    return search_fold(" ".join(p for p in parts if p))[:400]
