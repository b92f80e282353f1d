"""Helpers the campaign services share: links, the call queue, the timeline entry."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from stammkunde.core.access import User
from stammkunde.core.errors import ApplicationError, ConflictError
from stammkunde.customers.models import Channel, Interaction
from stammkunde.customers.services import interaction_record

from ..models import (
    Campaign,
    CampaignContact,
)

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "stammkunde.campaigns.unsubscribe"


def base_url() -> str:
    """Where customers reach the site (links in mails): setting, env, else localhost."""
    return (
        getattr(settings, "CAMPAIGNS_BASE_URL", "")
        or os.environ.get("STAMMKUNDE_BASE_URL", "")
        or "http://127.0.0.1:8000"
    ).rstrip("/")


def _call_queue() -> Any:
    from stammkunde.service.models import Queue

    name = getattr(settings, "CAMPAIGNS_CALL_QUEUE", "")
    queue = (Queue.objects.filter(name=name).first() if name else None) or Queue.objects.order_by(
        "id"
    ).first()
    if queue is None:
        raise ApplicationError(
            "Phone campaigns create call tasks in the service desk: create a queue first.",
            code="no_queue",
        )
    return queue


def _stale() -> ConflictError:
    return ConflictError(
        _("The audience changed since the preview; please check it and confirm again."),
        code="stale",
    )


def _timeline(
    contact: CampaignContact,
    campaign: Campaign,
    *,
    at: datetime,
    actor: User | None,
    text_key: str,
    text_params: dict[str, Any],
) -> None:
    """The contact on the customer timeline: a text of ``campaigns.timeline`` by key."""
    interaction_record(
        customer=contact.customer,
        occurred_at=at,
        channel={"email": Channel.EMAIL, "letter": Channel.LETTER}.get(
            campaign.channel, Channel.PHONE
        ),
        direction=Interaction.Direction.OUTBOUND,
        kind="campaign",
        text_key=text_key,
        text_params=text_params,
        source=contact,
        actor=actor,
    )
