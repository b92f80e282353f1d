"""Bounces: a hard bounce marks the address undeliverable and the bounced mail failed."""

from __future__ import annotations

from datetime import datetime

from stammkunde.core.audit import audit_record
from stammkunde.customers.models import Channel, EmailAddress, Interaction
from stammkunde.customers.services import interaction_record

from .. import parsing
from ..models import OutboxMessage
from ..timeline import EMAIL_BOUNCE
from .sending import _outbox_fail


def _bounce_apply(parsed: parsing.ParsedMail, *, now: datetime) -> str:
    """Mark a hard-bounced address undeliverable; mark the bounced outbox mail failed."""
    bounce = parsed.bounce
    if bounce is None or not bounce.recipient:
        return "bounce without a recognisable recipient"
    kind = "hard" if bounce.hard else "soft"
    reason = f"{kind} bounce for {bounce.recipient} {bounce.status}".strip()
    if bounce.hard:
        why = f"{bounce.status} {bounce.diagnostic}".strip()[:300] or "hard bounce"
        for row in EmailAddress.objects.select_related("customer").filter(
            address=bounce.recipient, undeliverable_at__isnull=True
        ):
            EmailAddress.objects.filter(pk=row.pk).update(
                undeliverable_at=now, undeliverable_reason=why
            )
            audit_record(
                actor=None,
                action="update",
                obj=row,
                customer_id=row.customer_id,
                changes={
                    "undeliverable_at": [None, now.isoformat()],
                    "undeliverable_reason": ["", why],
                },
            )
            interaction_record(
                customer=row.customer,
                occurred_at=now,
                channel=Channel.EMAIL,
                direction=Interaction.Direction.INBOUND,
                kind="email_bounce",
                text_key=EMAIL_BOUNCE,
                text_params={"address": row.address, "why": why},
            )
        if bounce.original_message_id:
            for out in OutboxMessage.objects.filter(message_id=bounce.original_message_id):
                _outbox_fail(out, f"bounced: {why}", now=now, status=OutboxMessage.Status.BOUNCED)
    return reason
