"""Campaigns and playbooks: create, change (refusing stale edits), switch on and off."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from stammkunde.core.access import User, acting_user
from stammkunde.core.audit import audit_record, diff, snapshot
from stammkunde.core.errors import ApplicationError, ConflictError, validated

from .. import selectors
from ..models import (
    Campaign,
)
from ._common import _call_queue, _stale

CAMPAIGN_FIELDS = (
    "name", "description", "segment", "offer_kind", "offer_value", "offer_points", "offer_text",
    "channel", "trigger", "trigger_phase", "trigger_days", "scheduled_for", "is_advertising",
    "budget", "cost_per_contact", "offer_cost", "control_share", "horizon_days",
    "expected_uplift", "priority", "subject", "body",
)  # fmt: skip


def _campaign_check(campaign: Campaign) -> None:
    if campaign.offer_kind == Campaign.Offer.VOUCHER and campaign.offer_value <= 0:
        raise ApplicationError(
            "A voucher needs a value.", field_errors={"offer_value": ["Give the voucher value."]}
        )
    if campaign.offer_kind == Campaign.Offer.POINTS and campaign.offer_points <= 0:
        raise ApplicationError(
            "A points bonus needs points.", field_errors={"offer_points": ["Give the points."]}
        )
    if campaign.trigger == Campaign.Trigger.PHASE_CHANGE and not campaign.trigger_phase:
        raise ApplicationError(
            "Which phase triggers the campaign?",
            field_errors={"trigger_phase": ["Choose a phase."]},
        )
    if campaign.trigger == Campaign.Trigger.AFTER_PURCHASE and not campaign.trigger_days:
        raise ApplicationError(
            "How many days after a purchase?", field_errors={"trigger_days": ["Give the days."]}
        )
    if campaign.channel == Campaign.Channel.EMAIL and not campaign.subject.strip():
        raise ApplicationError(
            "An email needs a subject.", field_errors={"subject": ["Give a subject."]}
        )
    if not 0 <= campaign.control_share < 1:
        raise ApplicationError(
            "The control share lies between 0 and 1.",
            field_errors={"control_share": ["Between 0 and 0.99."]},
        )


@transaction.atomic
def campaign_create(*, actor: User | None, data: dict[str, Any]) -> Campaign:
    """Create a campaign (switched off) from validated field values."""
    unknown = set(data) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ApplicationError(
            f"Unknown field(s): {', '.join(sorted(unknown))}",
            field_errors={f: ["Unknown field."] for f in unknown},
        )
    campaign = Campaign(created_by=acting_user(actor), **data)
    _campaign_check(campaign)
    validated(campaign)
    campaign.save()
    audit_record(
        actor=actor,
        action="create",
        obj=campaign,
        changes=snapshot(campaign, ["name", "channel", "offer_kind", "trigger"]),
    )
    return campaign


@transaction.atomic
def campaign_update(
    *,
    actor: User | None,
    campaign: Campaign,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> Campaign:
    """Change a campaign or playbook; refuse a stale edit."""
    unknown = set(data) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ApplicationError(
            f"Unknown field(s): {', '.join(sorted(unknown))}",
            field_errors={f: ["Unknown field."] for f in unknown},
        )
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError("Someone else changed this campaign meanwhile; reload.", code="stale")
    fields = [f for f in CAMPAIGN_FIELDS if f != "segment"] + ["segment_id"]
    before = snapshot(locked, fields)
    for key, value in data.items():
        setattr(locked, key, value)
    _campaign_check(locked)
    validated(locked)
    locked.version += 1
    locked.save()
    audit_record(
        actor=actor, action="update", obj=locked, changes=diff(before, snapshot(locked, fields))
    )
    return locked


@transaction.atomic
def campaign_status_set(
    *, actor: User | None, campaign: Campaign, status: str, confirm: str | None = None
) -> Campaign:
    """Switch a campaign on, pause or finish it; switching on runs its triggers at once.

    ``confirm`` (switching on): the token of the preview the user agreed to;
    a plan that differs from it is refused (``ConflictError`` code ``stale``).
    """
    if status not in Campaign.Status.values:
        raise ApplicationError("Unknown status.", field_errors={"status": ["Unknown status."]})
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status == Campaign.Status.FINISHED and status != Campaign.Status.FINISHED:
        raise ApplicationError("A finished campaign cannot be switched on again.", code="finished")
    if status == Campaign.Status.ACTIVE and locked.channel == Campaign.Channel.PHONE:
        _call_queue()  # fail now, not at the first call task
    if status == Campaign.Status.ACTIVE and confirm is not None:
        now = timezone.now()
        plan = selectors.contacts_plan(
            locked, selectors.run_audience(locked, now=now).customers, now=now
        )
        if confirm != selectors.plan_token(locked, "activate", plan):
            raise _stale()
    old = locked.status
    locked.status = status
    if status == Campaign.Status.ACTIVE and locked.activated_at is None:
        locked.activated_at = timezone.now()
    locked.version += 1
    locked.save()
    audit_record(actor=actor, action="update", obj=locked, changes={"status": [old, status]})
    if status == Campaign.Status.ACTIVE and locked.trigger != Campaign.Trigger.SCHEDULE:
        from stammkunde.core.jobs.services import job_start

        pk = locked.pk
        transaction.on_commit(
            lambda: job_start(kind="campaigns.trigger_pass", params={"campaign_id": pk}, user=actor)
        )
    return locked
