"""Stable random assignment to treatment or control, per customer and campaign.

A hash of (campaign key, customer id) gives a uniform number in [0, 1); the
customer is in the control group when it is below the control share. The
same customer lands in the same group every time the campaign runs or is
re-triggered (no re-randomisation that would blur the comparison), but
independently across campaigns, so nobody is "always control". The campaign
key is a random salt stored with the campaign (not its database id, which is
guessable and differs between databases).
"""

from __future__ import annotations

import hashlib

import numpy as np

_SCALE = float(2**64)


def assignment_number(campaign_key: str | int, customer_id: int) -> float:
    """Return the customer's uniform number in [0, 1) for this campaign."""
    digest = hashlib.sha256(f"campaign:{campaign_key}:customer:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def in_control(campaign_key: str | int, customer_id: int, control_share: float) -> bool:
    """Return True when the customer is held out of this campaign."""
    return assignment_number(campaign_key, customer_id) < control_share


def control_mask(
    campaign_key: str | int, customer_ids: np.ndarray, control_share: float
) -> np.ndarray:
    """Return the control flags of many customers (same rule as ``in_control``)."""
    return np.fromiter(
        (assignment_number(campaign_key, int(c)) < control_share for c in customer_ids),
        dtype=bool,
        count=len(customer_ids),
    )
