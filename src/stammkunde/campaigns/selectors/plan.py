"""The send plan and its preview: trigger occasions, the audience of a run, the signed plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User
from stammkunde.customers.models import Customer

from ..models import Campaign
from .contacts import campaign_cost_committed
from .eligibility import REASON_LABELS
from .lists import audience_queryset
from .next_best import active_campaigns, next_best_actions


def trigger_occasions(campaign: Campaign, now: datetime) -> dict[int, str]:
    """Return customer id → occasion for the customers whose trigger fired (not yet served)."""
    from stammkunde.analytics.orm import AnalyticsEvent, PhaseChange
    from stammkunde.commerce.models import Order

    today = timezone.localdate(now)
    lookback = int(getattr(settings, "CAMPAIGNS_TRIGGER_LOOKBACK_DAYS", 7))
    start = today - timedelta(days=lookback)
    audience = audience_queryset(campaign, now=now)
    found: dict[int, str] = {}
    if campaign.trigger == Campaign.Trigger.PHASE_CHANGE:
        # The phase history, not only the events: the first scoring puts every
        # customer into a phase (from ""), and a playbook switched on then
        # should reach them too.
        changes = PhaseChange.objects.filter(
            changed_on__gte=start, to_phase=campaign.trigger_phase, customer__in=audience
        )
        for changed_on, cid in changes.order_by("changed_on", "id").values_list(
            "changed_on", "customer_id"
        ):
            found.setdefault(cid, f"phase:{changed_on.isoformat()}")
    elif campaign.trigger == Campaign.Trigger.RISK_CROSSING:
        events = AnalyticsEvent.objects.filter(
            occurred_on__gte=start,
            customer__in=audience,
            kind=AnalyticsEvent.Kind.RISK_CROSSED_THRESHOLD,
            payload__direction="up",
        )
        for event_id, cid in events.order_by("occurred_on", "id").values_list("id", "customer_id"):
            found.setdefault(cid, f"event:{event_id}")
    elif campaign.trigger == Campaign.Trigger.BIRTHDAY:
        for cid in audience.filter(
            birthday__month=today.month, birthday__day=today.day
        ).values_list("pk", flat=True):
            found[cid] = f"birthday:{today.year}"
    elif campaign.trigger == Campaign.Trigger.AFTER_PURCHASE:
        day = today - timedelta(days=campaign.trigger_days or 0)
        orders = Order.objects.filter(
            status=Order.Status.PAID, customer__in=audience, ordered_at__date=day
        )
        for order_id, cid in orders.order_by("id").values_list("id", "customer_id"):
            found.setdefault(cid, f"order:{order_id}")
    if found:
        served = set(
            campaign.contacts.filter(customer_id__in=list(found)).values_list(
                "customer_id", "occasion"
            )
        )
        found = {c: o for c, o in found.items() if (c, o) not in served}
    return found


@dataclass
class RunAudience:
    """Who a run considers: the customers, their trigger occasions, and how many had it."""

    customers: QuerySet[Customer]
    occasions: dict[int, str] | None
    already: int


def run_audience(campaign: Campaign, *, now: datetime) -> RunAudience:
    """Return the customers a send (schedule) or trigger pass considers now.

    A scheduled campaign goes to its audience minus those it contacted before;
    a trigger campaign to the customers whose trigger fired (each occasion once).
    """
    if campaign.trigger != Campaign.Trigger.SCHEDULE:
        occasions = trigger_occasions(campaign, now)
        return RunAudience(Customer.objects.filter(pk__in=list(occasions)), occasions, 0)
    base = audience_queryset(campaign, now=now)
    had = campaign.contacts.filter(occasion="").values("customer_id")
    return RunAudience(base.exclude(pk__in=had), None, base.filter(pk__in=had).count())


@dataclass(frozen=True)
class Decision:
    customer_id: int
    control: bool
    score: float


@dataclass
class ContactPlan:
    """What a run does: who gets the campaign (treatment or control) and why others not."""

    considered: int
    decisions: list[Decision]
    suppressed: dict[str, int]

    @property
    def treatment(self) -> int:
        return sum(1 for d in self.decisions if not d.control)

    @property
    def control(self) -> int:
        return sum(1 for d in self.decisions if d.control)


def _with_campaign(campaign: Campaign) -> list[Campaign]:
    """The active campaigns as they will be with ``campaign`` switched on (priority order)."""
    campaigns = [c for c in active_campaigns() if c.pk != campaign.pk] + [campaign]
    return sorted(campaigns, key=lambda c: (c.priority, c.pk))


def contacts_plan(
    campaign: Campaign, audience: QuerySet[Customer], *, now: datetime
) -> ContactPlan:
    """Decide who is contacted (restraint, next best action, control, budget); write nothing.

    The one place of these rules: the run (``services``) writes exactly this
    plan, and the preview shows it before anyone confirms.
    """
    from ..numeric.assignment import in_control

    best = next_best_actions(audience, now=now, campaigns=_with_campaign(campaign))
    restraint = best.restraint
    j = next((i for i, c in enumerate(best.campaigns) if c.pk == campaign.pk), None)
    suppressed: dict[str, int] = {}
    spent = campaign_cost_committed(campaign)
    unit_cost = campaign.expected_cost
    share = float(campaign.control_share)
    decisions: list[Decision] = []
    budget_hit = False
    for cid in best.customer_ids.tolist():
        reason = restraint.reason(cid, campaign)
        if not reason:
            i = best.index[cid]
            winner = int(best.action[i])
            if j is None or winner != j:
                reason = "not_worth_it" if winner < 0 else "other_action_preferred"
        if reason:
            suppressed[reason] = suppressed.get(reason, 0) + 1
            continue
        control = in_control(campaign.assignment_key, cid, share)
        if not control and campaign.budget is not None and spent + unit_cost > campaign.budget:
            budget_hit = True
        if budget_hit:
            suppressed["budget"] = suppressed.get("budget", 0) + 1
            continue
        if not control:
            spent += unit_cost
        decisions.append(Decision(cid, control, float(best.score[best.index[cid]])))
    return ContactPlan(int(best.customer_ids.size), decisions, suppressed)


def plan_token(campaign: Campaign, action: str, plan: ContactPlan) -> str:
    """A short digest of what a confirmation agrees to; any change of the plan changes it."""
    import hashlib
    import json

    payload = json.dumps(
        [
            campaign.pk,
            campaign.version,
            action,
            [[d.customer_id, d.control] for d in plan.decisions],
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


PREVIEW_ACTIONS = ("run", "activate")


@dataclass
class CampaignPreview:
    """The audience of a send or switch-on before it happens, and what it will do."""

    campaign: Campaign
    action: str
    plan: ContactPlan
    already: int
    token: str
    sample: list[dict[str, Any]]

    @property
    def audience(self) -> int:
        return self.plan.considered + self.already

    @property
    def cost(self) -> Decimal:
        return self.campaign.expected_cost * self.plan.treatment

    @property
    def excluded(self) -> list[dict[str, Any]]:
        counts = dict(self.plan.suppressed)
        if self.already:
            counts["already_contacted"] = self.already
        if self.plan.control:
            counts["control"] = self.plan.control
        return [
            {"key": k, "label": REASON_LABELS.get(k, k), "n": n}
            for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]

    @property
    def summary(self) -> str:
        """What a confirmation does, in words: "creates 69 call tasks, costs about 180 €"."""
        from django.utils.formats import number_format

        n = self.plan.treatment
        channel = self.campaign.channel
        if channel == Campaign.Channel.PHONE:
            what = _("creates %(n)s call tasks") % {"n": n}
        elif channel == Campaign.Channel.LETTER:
            what = _("hands %(n)s letters to the mail house") % {"n": n}
        else:
            what = _("sends %(n)s e-mails") % {"n": n}
        parts = [what]
        if self.campaign.offer_kind == Campaign.Offer.VOUCHER and n:
            parts.append(_("issues %(n)s vouchers") % {"n": n})
        if self.plan.control:
            parts.append(_("holds %(n)s back as control group") % {"n": self.plan.control})
        parts.append(
            _("costs about %(cost)s €") % {"cost": number_format(self.cost, 0, use_l10n=True)}
        )
        return ", ".join(parts)


def campaign_preview(
    campaign: Campaign, *, user: User, action: str = "run", now: datetime | None = None
) -> CampaignPreview:
    """Show what sending (``run``) or switching on (``activate``) would do now; write nothing.

    The counts come from ``contacts_plan`` on ``run_audience``, the very
    functions the run uses, so what the preview promises is what happens.
    The sample shows customers the user may see (``visible_to``).
    """
    from stammkunde.analytics.orm import CustomerScore

    if action not in PREVIEW_ACTIONS:
        action = "run"
    now = now or timezone.now()
    target = run_audience(campaign, now=now)
    plan = contacts_plan(campaign, target.customers, now=now)
    ids = [d.customer_id for d in plan.decisions if not d.control][:200]
    value_class = Subquery(
        CustomerScore.objects.filter(customer_id=OuterRef("pk"), is_latest=True).values(
            "value_class"
        )[:1]
    )
    sample = [
        {"customer": c, "value_class": getattr(c, "sample_value_class", "") or "–"}
        for c in Customer.objects.visible_to(user)  # type: ignore[attr-defined]
        .filter(pk__in=ids)
        .annotate(sample_value_class=value_class)
        .order_by("last_name", "first_name", "pk")[:10]
    ]
    return CampaignPreview(
        campaign=campaign,
        action=action,
        plan=plan,
        already=target.already,
        token=plan_token(campaign, action, plan),
        sample=sample,
    )
