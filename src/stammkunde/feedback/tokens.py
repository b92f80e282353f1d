"""The personal survey link: the invitation's random key, signed with django.core.signing.

The key is 24 random bytes (192 bits) from ``secrets``, 32 URL-safe characters, for live
and demo invitations alike (unguessable on its own); the signature makes a changed link
fail *before* any database lookup, so that a tampered link reveals nothing, not even
whether an invitation exists. A link answers once (``services.response_submit``).
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "stammkunde.feedback.invitation"


def token_for(key: str) -> str:
    return signing.Signer(salt=SALT).sign(key)


def key_from_token(token: str) -> str | None:
    """Return the invitation key of a valid token, or None for a tampered one."""
    try:
        return signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None


def base_url() -> str:
    """Where customers reach the site: ``FEEDBACK_BASE_URL`` setting or env, else localhost."""
    configured = getattr(settings, "FEEDBACK_BASE_URL", "") or os.environ.get(
        "STAMMKUNDE_BASE_URL", "http://127.0.0.1:8000"
    )
    return str(configured).rstrip("/")


def survey_url(key: str) -> str:
    return base_url() + reverse("feedback:answer", args=[token_for(key)])
