"""Settings the campaign reads share: the contact cap, its window, the gap, a default value."""

from __future__ import annotations

from django.conf import settings

from ..models import Campaign, CampaignContact

CHANNELS = (Campaign.Channel.EMAIL, Campaign.Channel.LETTER, Campaign.Channel.PHONE)
#: Contact statuses that count against the frequency cap (a held-out control does not).
COUNTED = (CampaignContact.Status.QUEUED, CampaignContact.Status.SENT)
DOI_MARK = "opt-in"


def contact_cap() -> int:
    return int(getattr(settings, "CAMPAIGNS_CONTACT_CAP", 2))


def cap_window_days() -> int:
    return int(getattr(settings, "CAMPAIGNS_CAP_WINDOW_DAYS", 30))


def min_gap_days() -> int:
    return int(getattr(settings, "CAMPAIGNS_MIN_GAP_DAYS", 7))


def default_value() -> float:
    """The value of a retained customer without a score (EUR over 12 months)."""
    return float(getattr(settings, "CAMPAIGNS_DEFAULT_VALUE", 100.0))
