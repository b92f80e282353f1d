"""The send: decide who is contacted and write the contact log, in one transaction.

``campaign_run`` / ``campaign_trigger_pass`` decide in one transaction who is
contacted (eligibility, next best action, control group, budget) and write the
contact log; e-mails are only *queued* there (``mail.email_queue_send``
delivers them). Letters are handed to the mail house, phone campaigns open
call tasks in the service desk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.errors import ApplicationError

from .. import selectors, timeline
from ..models import (
    Campaign,
    CampaignContact,
    CampaignRun,
)
from ._common import _call_queue, _stale, _timeline, log

if TYPE_CHECKING:
    from stammkunde.core.jobs.models import Job

#: ``progress(done, total)``: how many customers of the run's audience are handled so far.
Progress = Callable[[int, int], None]

#: Contacts written and acted on per step of a run; progress is reported after each step.
RUN_CHUNK = 200


def campaign_run(
    *,
    actor: User | None,
    campaign: Campaign,
    now: datetime | None = None,
    confirm: str | None = None,
    progress: Progress | None = None,
) -> CampaignRun:
    """Send a scheduled campaign to its audience now (customers not contacted yet).

    ``confirm`` is the token of the preview the user agreed to
    (``selectors.campaign_preview``); when given, a plan that differs from it
    (the audience changed meanwhile) is refused with ``ConflictError`` code
    ``stale`` and nothing is written. The UI always passes it. ``progress`` is
    called with (done, total) over the audience while the run proceeds.
    """
    now = now or timezone.now()
    _active_check(campaign)
    if campaign.trigger != Campaign.Trigger.SCHEDULE:
        return campaign_trigger_pass(
            campaign=campaign, now=now, actor=actor, confirm=confirm, progress=progress
        )
    return _contacts_make(
        actor=actor, campaign=campaign, now=now, confirm=confirm, progress=progress
    )


def campaign_run_check(*, campaign: Campaign, confirm: str, now: datetime | None = None) -> None:
    """Refuse now what :func:`campaign_run` would refuse for ``confirm``; write nothing.

    A campaign that is not on is an ``ApplicationError`` (``not_active``), a
    token that no longer matches the plan a ``ConflictError`` (``stale``).
    """
    now = now or timezone.now()
    _active_check(campaign)
    _plan_checked(campaign, now=now, confirm=confirm, action="run")


def campaign_send_start(*, actor: User | None, campaign: Campaign, confirm: str) -> Job:
    """Check a confirmed "send now" and start it as the job ``campaigns.send``.

    The check (:func:`campaign_run_check`) refuses a stale confirmation at
    once; the job runs :func:`campaign_run` with the same token, which checks
    it again under the campaign's row lock, so a retry or a second start never
    contacts anyone twice (once the first run is written, the plan and so the
    token differ). While the same send runs, that job is returned
    (``deduplicated``). A job queue that is down is an ``ApplicationError``
    code ``broker_unavailable`` (the job stays recorded as not sent).
    """
    from stammkunde.core.jobs.services import job_start_checked

    campaign_run_check(campaign=campaign, confirm=confirm)
    return job_start_checked(
        kind="campaigns.send",
        params={"campaign_id": campaign.pk, "confirm": confirm},
        user=actor,
    )


def campaign_trigger_pass(
    *,
    campaign: Campaign,
    now: datetime | None = None,
    actor: User | None = None,
    confirm: str | None = None,
    progress: Progress | None = None,
) -> CampaignRun:
    """Contact the customers whose trigger fired since the last pass (each occasion once)."""
    now = now or timezone.now()
    return _contacts_make(
        actor=actor, campaign=campaign, now=now, confirm=confirm, progress=progress
    )


def _active_check(campaign: Campaign) -> None:
    if campaign.status != Campaign.Status.ACTIVE:
        raise ApplicationError(_("Switch the campaign on before sending it."), code="not_active")


def _plan_checked(
    campaign: Campaign, *, now: datetime, confirm: str | None, action: str
) -> tuple[Any, selectors.ContactPlan]:
    """The audience and plan of a run now; a ``confirm`` token that does not match is stale."""
    target = selectors.run_audience(campaign, now=now)
    plan = selectors.contacts_plan(campaign, target.customers, now=now)
    if confirm is not None and confirm != selectors.plan_token(campaign, action, plan):
        raise _stale()
    return target, plan


@transaction.atomic
def _contacts_make(
    *,
    actor: User | None,
    campaign: Campaign,
    now: datetime,
    confirm: str | None = None,
    action: str = "run",
    progress: Progress | None = None,
) -> CampaignRun:
    """Write the plan of ``selectors.contacts_plan`` (contact log, offers) and act on it.

    The plan is written in steps of ``RUN_CHUNK`` contacts (all in this one
    transaction); after each, ``progress(done, total)`` counts the customers of
    the audience handled so far (those the plan leaves out count as handled
    from the start), so at the end done equals total equals the audience.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    target, plan = _plan_checked(campaign, now=now, confirm=confirm, action=action)
    run = CampaignRun.objects.create(campaign=campaign, started_at=now, actor=acting_user(actor))
    unit_cost = campaign.expected_cost
    occasions = target.occasions or {}
    total = plan.considered
    done = total - len(plan.decisions)
    if progress is not None:
        progress(done, total)
    treatment = control = 0
    for start in range(0, len(plan.decisions), RUN_CHUNK):
        rows = [
            CampaignContact(
                campaign=campaign,
                run=run,
                customer_id=d.customer_id,
                occasion=occasions.get(d.customer_id, ""),
                group=(
                    CampaignContact.Group.CONTROL if d.control else CampaignContact.Group.TREATMENT
                ),
                status=(
                    CampaignContact.Status.HELD_OUT if d.control else CampaignContact.Status.QUEUED
                ),
                channel=campaign.channel,
                contacted_at=now,
                cost=Decimal("0") if d.control else unit_cost,
                reason="" if d.control else f"score {d.score:.2f}",
            )
            for d in plan.decisions[start : start + RUN_CHUNK]
        ]
        CampaignContact.objects.bulk_create(rows)
        treated = [r for r in rows if r.group == CampaignContact.Group.TREATMENT]
        _offers_grant(campaign, treated, now=now)
        if campaign.channel == Campaign.Channel.LETTER:
            _letters_hand_over(campaign, treated, now=now, actor=actor)
        elif campaign.channel == Campaign.Channel.PHONE:
            _call_tasks_create(campaign, treated, now=now, actor=actor)
        treatment += len(treated)
        control += len(rows) - len(treated)
        done += len(rows)
        if progress is not None:
            progress(done, total)
    if treatment and campaign.channel not in (Campaign.Channel.LETTER, Campaign.Channel.PHONE):
        from stammkunde.core.jobs.services import job_start

        transaction.on_commit(lambda: job_start(kind="campaigns.email_dispatch", trigger="system"))
    run.counts = {
        "audience": plan.considered,
        "treatment": treatment,
        "control": control,
        "suppressed": dict(plan.suppressed),
    }
    run.save(update_fields=["counts"])
    return run


def _offers_grant(campaign: Campaign, treated: list[CampaignContact], *, now: datetime) -> None:
    """Issue the personal voucher or book the points bonus of each treated contact."""
    if campaign.offer_kind == Campaign.Offer.VOUCHER:
        from stammkunde.loyalty.services import voucher_issue

        for contact in treated:
            voucher = voucher_issue(
                actor=None,
                kind="amount",
                value=campaign.offer_value,
                valid_until=now + timedelta(days=campaign.horizon_days),
                valid_from=now,
                customer=contact.customer,
                reason=f"campaign {campaign.pk}: {campaign.name}"[:300],
            )
            contact.voucher_code = voucher.code
            contact.save(update_fields=["voucher_code"])
    elif campaign.offer_kind == Campaign.Offer.POINTS:
        from stammkunde.loyalty.models import LoyaltyAccount
        from stammkunde.loyalty.services import points_earn

        accounts = {
            a.customer_id: a
            for a in LoyaltyAccount.objects.filter(
                customer_id__in=[c.customer_id for c in treated]
            ).select_related("program")
        }
        for contact in treated:
            account = accounts.get(contact.customer_id)
            if account is None:
                continue  # not a member: the mail still goes out, without points
            points_earn(
                account=account,
                points=campaign.offer_points,
                at=now,
                idempotency_key=f"campaign:{campaign.pk}:{contact.customer_id}:{contact.occasion}",
                reason=f"campaign {campaign.name}"[:300],
                campaign=str(campaign.pk),
            )


def _letters_hand_over(
    campaign: Campaign, treated: list[CampaignContact], *, now: datetime, actor: User | None
) -> None:
    """Mark letters as handed to the mail house (the batch is the HTML/CSV export)."""
    CampaignContact.objects.filter(pk__in=[c.pk for c in treated]).update(
        status=CampaignContact.Status.SENT, sent_at=now
    )
    for contact in treated:
        _timeline(
            contact,
            campaign,
            at=now,
            actor=actor,
            text_key=timeline.LETTER,
            text_params={"campaign": campaign.name},
        )


def _call_tasks_create(
    campaign: Campaign, treated: list[CampaignContact], *, now: datetime, actor: User | None
) -> None:
    """Open one outbound call task per customer in the service desk, with the risk reasons."""
    from stammkunde.service.models import Priority, Ticket
    from stammkunde.service.services import ticket_create

    queue = _call_queue()
    due = now + timedelta(days=1)
    for contact in treated:
        customer = contact.customer
        body = "\n".join(
            [
                _("Please call %(name)s (%(number)s) by %(due)s.")
                % {
                    "name": customer.display_name,
                    "number": customer.number,
                    "due": timezone.localtime(due).strftime("%d.%m.%Y %H:%M"),
                },
                _("Campaign: %(name)s") % {"name": campaign.name},
                _("Offer: %(kind)s %(text)s")
                % {"kind": campaign.get_offer_kind_display(), "text": campaign.offer_text},
                _("Why the customer is at risk:"),
                selectors.risk_reasons_text(customer),
                campaign.body,
            ]
        ).strip()
        ticket = ticket_create(
            actor=actor,
            subject=(
                _("Call: %(name)s – %(campaign)s")
                % {"name": customer.display_name, "campaign": campaign.name}
            )[:200],
            body=body,
            queue=queue,
            customer=customer,
            type=Ticket.Type.OTHER,
            channel="phone",
            priority=Priority.HIGH,
            tags=["outbound-call", "campaign"],
            from_customer=False,
            now=now,
        )
        CampaignContact.objects.filter(pk=contact.pk).update(
            status=CampaignContact.Status.SENT, sent_at=now, ticket_id=ticket.pk
        )
        _timeline(
            contact,
            campaign,
            at=now,
            actor=actor,
            text_key=timeline.CALL_TASK,
            text_params={"ticket": ticket.number, "campaign": campaign.name},
        )


def campaigns_dispatch_due(*, now: datetime | None = None) -> dict[str, int]:
    """Run what is due: scheduled sends whose time has come and every active trigger.

    Each campaign runs in its own transaction so one failure does not stop
    the others. Returns the number of new contacts per campaign id.
    """
    now = now or timezone.now()
    done: dict[str, int] = {}
    for campaign in Campaign.objects.filter(status=Campaign.Status.ACTIVE).order_by("priority"):
        if campaign.trigger == Campaign.Trigger.SCHEDULE:
            if campaign.scheduled_for is None or campaign.scheduled_for > now:
                continue
            if campaign.runs.exists():
                continue
        try:
            run = campaign_run(actor=None, campaign=campaign, now=now)
        except ApplicationError as exc:
            log.warning("campaign %s not run: %s", campaign.pk, exc.message)
            continue
        done[str(campaign.pk)] = run.counts.get("treatment", 0) + run.counts.get("control", 0)
    return done
