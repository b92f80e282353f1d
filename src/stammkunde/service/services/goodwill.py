"""Agent empowerment: goodwill within a limit per role, team-lead decisions, sales hand-over."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ApplicationError
from stammkunde.core.hooks import hook_run
from stammkunde.core.roles import (
    ADMIN,
    TEAM_LEAD,
    has_role,
)
from stammkunde.core.roles import goodwill_limit_of as role_goodwill_limit
from stammkunde.customers.models import Interaction

from ..models import GoodwillGrant, Message, Ticket
from .events import notify, timeline_add

UNLIMITED = Decimal("1e9")


def goodwill_limit_of(user: User) -> Decimal:
    """Return the EUR value ``user`` may grant alone (``core.roles``; admins: unlimited)."""
    limit = role_goodwill_limit(user)
    return UNLIMITED if limit is None else limit


def _internal_note(ticket: Ticket, actor: User | None, body: str, now: datetime) -> None:
    Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.INTERNAL,
        direction=Message.Direction.INTERNAL,
        author=acting_user(actor),
        body=body,
        channel=ticket.channel,
        created_at=now,
    )


def _leads() -> list[Any]:
    return list(get_user_model().objects.filter(groups__name=TEAM_LEAD, is_active=True))


@transaction.atomic
def goodwill_request(
    *,
    actor: User,
    ticket: Ticket,
    kind: str,
    amount: Decimal,
    reason: str,
    now: datetime | None = None,
) -> GoodwillGrant:
    """Grant goodwill at once within the actor's limit; above it, ask a team lead.

    The request and its outcome are written on the ticket (internal note) and
    on the customer timeline.
    """
    now = now or timezone.now()
    if kind not in GoodwillGrant.Kind.values:
        raise ApplicationError(_("Unknown kind of goodwill."), field_errors={"kind": [kind]})
    if amount is None or amount <= 0:
        raise ApplicationError(
            _("The value must be above 0."), field_errors={"amount": [_("Must be above 0.")]}
        )
    if not reason.strip():
        raise ApplicationError(_("Give a reason."), field_errors={"reason": [_("Required.")]})
    limit = goodwill_limit_of(actor)
    within = amount <= limit
    grant = GoodwillGrant.objects.create(
        ticket=ticket,
        customer=ticket.customer,
        kind=kind,
        amount=amount,
        reason=reason.strip()[:300],
        status=GoodwillGrant.Status.GRANTED if within else GoodwillGrant.Status.REQUESTED,
        requested_by=acting_user(actor),
        requested_at=now,
        decided_by=acting_user(actor) if within else None,
        decided_at=now if within else None,
    )
    if within:
        text = _("Goodwill granted: %(kind)s %(amount)s EUR (%(reason)s)")
    else:
        text = _(
            "Goodwill requested from a team lead: %(kind)s %(amount)s EUR (%(reason)s); "
            "above the limit of %(limit)s EUR"
        )
    text = text % {
        "kind": grant.get_kind_display(),
        "amount": amount,
        "reason": grant.reason,
        "limit": limit,
    }
    _internal_note(ticket, actor, text, now)
    timeline_add(ticket, kind="goodwill", summary=text, actor=actor, at=now)
    audit_record(
        actor=actor,
        action="create",
        obj=grant,
        customer_id=ticket.customer_id,
        changes={"kind": kind, "amount": str(amount), "status": grant.status},
    )
    if within:
        hook_run("goodwill_granted", grant=grant)  # loyalty pays out points and vouchers
    if not within:
        for lead in _leads():
            if lead.pk != actor.pk:
                notify(
                    user=lead,
                    ticket=ticket,
                    kind="goodwill",
                    now=now,
                    text=_("%(user)s asks for goodwill of %(amount)s EUR on %(number)s")
                    % {"user": actor, "amount": amount, "number": ticket.number},
                )
    return grant


@transaction.atomic
def goodwill_decide(
    *, actor: User, grant: GoodwillGrant, approve: bool, note: str = "", now: datetime | None = None
) -> GoodwillGrant:
    """Approve or reject a requested grant; only a team lead (or admin) within their limit.

    Nobody decides their own request. The decision goes on the ticket.
    """
    now = now or timezone.now()
    locked = GoodwillGrant.objects.select_for_update().select_related("ticket").get(pk=grant.pk)
    if locked.status != GoodwillGrant.Status.REQUESTED:
        raise ApplicationError(_("This goodwill has been decided already."), code="decided")
    if not has_role(actor, TEAM_LEAD, ADMIN):
        raise ApplicationError(_("Only a team lead decides goodwill requests."), code="forbidden")
    if locked.requested_by_id == actor.pk:
        raise ApplicationError(_("Nobody decides their own goodwill request."), code="own_request")
    if approve and locked.amount > goodwill_limit_of(actor):
        raise ApplicationError(
            _("The value is above your own limit; ask an administrator."), code="limit"
        )
    locked.status = GoodwillGrant.Status.APPROVED if approve else GoodwillGrant.Status.REJECTED
    locked.decided_by, locked.decided_at = actor, now  # type: ignore[assignment]
    locked.decision_note = note.strip()[:300]
    locked.save()
    text = (
        _("Goodwill %(amount)s EUR approved by %(user)s")
        if approve
        else _("Goodwill %(amount)s EUR rejected by %(user)s")
    ) % {"amount": locked.amount, "user": actor}
    if locked.decision_note:
        text += f": {locked.decision_note}"
    _internal_note(locked.ticket, actor, text, now)
    timeline_add(locked.ticket, kind="goodwill", summary=text, actor=actor, at=now)
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        customer_id=locked.ticket.customer_id,
        changes={"status": locked.status},
    )
    if approve:
        hook_run("goodwill_granted", grant=locked)
    if locked.requested_by is not None:
        notify(
            user=locked.requested_by,
            ticket=locked.ticket,
            kind="goodwill_decided",
            text=text,
            now=now,
        )
    return locked


@transaction.atomic
def sales_handover_create(
    *, actor: User, ticket: Ticket, note: str, now: datetime | None = None
) -> None:
    """Hand an upsell chance to sales: a sales note on the customer's timeline."""
    now = now or timezone.now()
    if ticket.customer_id is None:
        raise ApplicationError(_("Link the ticket to a customer first."), code="no_customer")
    if not note.strip():
        raise ApplicationError(
            _("Describe the opportunity."), field_errors={"note": [_("Required.")]}
        )
    _internal_note(ticket, actor, _("Handed over to sales: %(note)s") % {"note": note.strip()}, now)
    timeline_add(
        ticket,
        kind="sales_lead",
        summary=note.strip(),
        actor=actor,
        at=now,
        direction=Interaction.Direction.INTERNAL,
    )
