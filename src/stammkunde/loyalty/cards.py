"""Card numbers with a Luhn check digit (ISO/IEC 7812), and voucher/referral codes."""

from __future__ import annotations

import secrets

CARD_PREFIX = "9276"
CARD_LENGTH = 16
# No 0/O, 1/I/L: codes are read aloud and typed at the till.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def luhn_check_digit(payload: str) -> str:
    """Return the digit that makes ``payload + digit`` pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # doubled: these sit at odd positions once the check digit is added
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """Return True when ``number`` is all digits and its last digit checks the rest."""
    return number.isdigit() and len(number) >= 2 and luhn_check_digit(number[:-1]) == number[-1]


def card_number_for(sequence: int) -> str:
    """Return the card number for the ``sequence``-th card (prefix, zero-padded, check digit)."""
    payload = f"{CARD_PREFIX}{sequence:0{CARD_LENGTH - len(CARD_PREFIX) - 1}d}"
    return payload + luhn_check_digit(payload)


def random_code(length: int = 12, *, prefix: str = "") -> str:
    """Return an unguessable code (``secrets``; 31**12 ≈ 2**59 possibilities at length 12)."""
    return prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
