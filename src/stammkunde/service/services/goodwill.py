"""Agent empowerment: goodwill within a limit per role, team-lead decisions, sales hand-over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import number_format
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
from stammkunde.customers import selectors as customer_selectors

from .. import timeline
from ..models import GoodwillGrant, Message, Ticket
from .events import notify, timeline_add

UNLIMITED = Decimal("1e9")


def goodwill_limit_of(user: User) -> Decimal:
    """Return the EUR value ``user`` may grant alone (``core.roles``; admins: unlimited)."""
    limit = role_goodwill_limit(user)
    return UNLIMITED if limit is None else limit


# What the agent may grant alone is the limit of ``goodwill_limit_of`` per ticket; per customer
# and calendar month, and per agent and calendar month, a multiple of it (settings).
CUSTOMER_MONTH_FACTOR = Decimal(str(getattr(settings, "STAMMKUNDE_GOODWILL_CUSTOMER_FACTOR", 2)))
AGENT_MONTH_FACTOR = Decimal(str(getattr(settings, "STAMMKUNDE_GOODWILL_MONTH_FACTOR", 10)))
_PAID = (GoodwillGrant.Status.GRANTED, GoodwillGrant.Status.APPROVED)


@dataclass(frozen=True)
class GoodwillLimit:
    """One cumulative limit: what it allows, what is already used, what is left."""

    scope: str  # "ticket", "customer" or "month"
    label: str
    limit: Decimal
    used: Decimal

    @property
    def left(self) -> Decimal:
        return max(self.limit - self.used, Decimal("0"))


def _month_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _sum(grants: QuerySet[GoodwillGrant]) -> Decimal:
    return grants.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def goodwill_limits_for(
    *, actor: User, ticket: Ticket, now: datetime | None = None
) -> list[GoodwillLimit]:
    """Return the cumulative limits that bind ``actor`` on ``ticket`` (none for no limit).

    Per ticket: all goodwill granted or approved on it. Per customer: all goodwill
    the customer received this calendar month. Per agent: what ``actor`` granted
    alone this calendar month. Requests still waiting for a team lead count too,
    so that splitting a request cannot slip past the lead.
    """
    limit = goodwill_limit_of(actor)
    if limit >= UNLIMITED:
        return []
    now = now or timezone.now()
    since = _month_start(now)
    counted = GoodwillGrant.objects.filter(status__in=(*_PAID, GoodwillGrant.Status.REQUESTED))
    limits = [
        GoodwillLimit("ticket", _("per ticket"), limit, _sum(counted.filter(ticket_id=ticket.pk)))
    ]
    if ticket.customer_id is not None:
        limits.append(
            GoodwillLimit(
                "customer",
                _("per customer and month"),
                limit * CUSTOMER_MONTH_FACTOR,
                _sum(counted.filter(customer_id=ticket.customer_id, requested_at__gte=since)),
            )
        )
    limits.append(
        GoodwillLimit(
            "month",
            _("per agent and month"),
            limit * AGENT_MONTH_FACTOR,
            _sum(
                GoodwillGrant.objects.filter(
                    Q(requested_by_id=actor.pk, decided_by_id=actor.pk),
                    status=GoodwillGrant.Status.GRANTED,
                    requested_at__gte=since,
                )
            ),
        )
    )
    return limits


def _lock_scopes(actor: User, ticket: Ticket) -> None:
    """Lock the rows the three sums hang on, in one order (customer, ticket, user).

    Two grants at once on the same ticket, customer or agent then run one after the
    other: the second sees the first one's amount in its sum.
    """
    if ticket.customer_id is not None:
        customer_selectors.customer_for_update(pk=ticket.customer_id)
    list(Ticket.objects.select_for_update().filter(pk=ticket.pk).values("pk"))
    list(get_user_model().objects.select_for_update().filter(pk=actor.pk or 0).values("pk"))


def _euros(value: Decimal) -> str:
    return number_format(value, 2, use_l10n=True, force_grouping=True)


def _over_note(limit: GoodwillLimit) -> str:
    return _(
        "Above the limit %(label)s of %(limit)s €: %(used)s € are already granted or "
        "requested, %(left)s € are left."
    ) % {
        "label": limit.label,
        "limit": _euros(limit.limit),
        "used": _euros(limit.used),
        "left": _euros(limit.left),
    }


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
    idempotency_key: str = "",
) -> GoodwillGrant:
    """Grant goodwill at once within the actor's limits; above any of them, ask a team lead.

    The limits are cumulative (``goodwill_limits_for``): per ticket, per customer
    and month, per agent and month. The rows they sum over are locked first, so
    two grants at the same moment cannot both pass a limit only one fits. The
    limit that was hit and what is left of it is kept on the grant (``limit_note``).
    The request and its outcome are written on the ticket (internal note) and
    on the customer timeline. With ``idempotency_key`` (the form's key) the
    same request sent again returns the first grant and pays out nothing more.
    """
    now = now or timezone.now()
    request_key = f"{ticket.pk}:{idempotency_key.strip()}" if idempotency_key.strip() else None
    if request_key and (found := GoodwillGrant.objects.filter(request_key=request_key).first()):
        return found
    if kind not in GoodwillGrant.Kind.values:
        raise ApplicationError(_("Unknown kind of goodwill."), field_errors={"kind": [kind]})
    if amount is None or amount <= 0:
        raise ApplicationError(
            _("The value must be above 0."), field_errors={"amount": [_("Must be above 0.")]}
        )
    if not reason.strip():
        raise ApplicationError(_("Give a reason."), field_errors={"reason": [_("Required.")]})
    _lock_scopes(actor, ticket)
    if request_key and (found := GoodwillGrant.objects.filter(request_key=request_key).first()):
        return found  # a twin waited on the lock and was stored meanwhile
    over = [
        lim for lim in goodwill_limits_for(actor=actor, ticket=ticket, now=now) if amount > lim.left
    ]
    within = not over
    limit_note = _over_note(over[0]) if over else ""
    try:
        with transaction.atomic():
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
                request_key=request_key,
                limit_note=limit_note,
            )
    except IntegrityError:
        # A twin of this request was stored between the look-up and the insert.
        if request_key and (found := GoodwillGrant.objects.filter(request_key=request_key).first()):
            return found
        raise
    if within:
        text = _("Goodwill granted: %(kind)s %(amount)s EUR (%(reason)s)")
    else:
        text = _("Goodwill requested from a team lead: %(kind)s %(amount)s EUR (%(reason)s)")
    text = text % {
        "kind": grant.get_kind_display(),
        "amount": amount,
        "reason": grant.reason,
    }
    params: dict[str, Any] = {"kind": grant.kind, "amount": str(amount), "reason": grant.reason}
    if limit_note:
        text = f"{text}. {limit_note}"
        params.update(
            label=over[0].scope,
            limit=str(over[0].limit),
            used=str(over[0].used),
            left=str(over[0].left),
        )
    _internal_note(ticket, actor, text, now)
    timeline_add(
        ticket,
        kind="goodwill",
        text_key=timeline.GOODWILL_GRANTED if within else timeline.GOODWILL_REQUESTED,
        text_params=params,
        actor=actor,
        at=now,
    )
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
    params = {"amount": str(locked.amount), "user": str(actor)}
    if locked.decision_note:
        text += f": {locked.decision_note}"
        params["note"] = locked.decision_note
        key = timeline.GOODWILL_APPROVED_NOTE if approve else timeline.GOODWILL_REJECTED_NOTE
    else:
        key = timeline.GOODWILL_APPROVED if approve else timeline.GOODWILL_REJECTED
    _internal_note(locked.ticket, actor, text, now)
    timeline_add(
        locked.ticket, kind="goodwill", text_key=key, text_params=params, actor=actor, at=now
    )
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
        direction=customer_selectors.InteractionDirection.INTERNAL,
    )
