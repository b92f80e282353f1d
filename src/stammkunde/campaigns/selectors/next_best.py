"""The next best action per customer (arbitration across active campaigns) and risk reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User
from stammkunde.core.roles import is_internal
from stammkunde.customers.models import Customer

from ..models import Campaign, CampaignContact
from ..numeric.arbitration import NO_ACTION, arbitrate, eligibility_mask
from ._common import CHANNELS, contact_cap
from .eligibility import REASON_LABELS, Restraint, restraint_for
from .features import FEATURE_NAMES, customer_features, customer_values, expected_uplift
from .lists import audience_queryset


@dataclass
class NextBest:
    """The arbitration of a set of customers over the active campaigns."""

    customer_ids: np.ndarray
    campaigns: list[Campaign]
    action: np.ndarray
    score: np.ndarray
    uplift: np.ndarray
    value: np.ndarray
    restraint: Restraint
    in_audience: np.ndarray
    index: dict[int, int] = field(default_factory=dict)

    def best_for(self, customer_id: int) -> Campaign | None:
        i = self.index.get(customer_id)
        if i is None or self.action[i] == NO_ACTION:
            return None
        return self.campaigns[int(self.action[i])]


def active_campaigns() -> list[Campaign]:
    """Return the switched-on campaigns in priority order (lower priority number first)."""
    return list(
        Campaign.objects.filter(status=Campaign.Status.ACTIVE)
        .select_related("segment")
        .order_by("priority", "id")
    )


def next_best_actions(
    audience: QuerySet[Customer],
    *,
    now: datetime | None = None,
    campaigns: list[Campaign] | None = None,
) -> NextBest:
    """Arbitrate the active campaigns for every customer of ``audience``.

    Score = expected uplift × value − expected cost per contact, masked by the
    audiences and the restraint rules; the best positive score wins.
    """
    now = now or timezone.now()
    campaigns = active_campaigns() if campaigns is None else campaigns
    ids = np.asarray(sorted(audience.values_list("pk", flat=True)), dtype=np.int64)
    n, k = ids.size, len(campaigns)
    index = {int(c): i for i, c in enumerate(ids)}
    in_audience = np.zeros((n, k), dtype=bool)
    for j, campaign in enumerate(campaigns):
        members = audience_queryset(campaign, now=now).filter(pk__in=audience.values("pk"))
        already = CampaignContact.objects.filter(
            campaign=campaign,
            occasion="",
            contacted_at__gte=now - timedelta(days=campaign.horizon_days),
        ).values("customer_id")
        member_ids = np.fromiter(
            members.exclude(pk__in=already).values_list("pk", flat=True), dtype=np.int64
        )
        # ids is sorted and holds every member: positions by binary search.
        in_audience[np.searchsorted(ids, member_ids), j] = True
    restraint = restraint_for(audience, now=now)
    consent = np.zeros((n, len(CHANNELS)), dtype=bool)
    for c, channel in enumerate(CHANNELS):
        for cid in restraint.reachable[channel]:
            if cid in index:
                consent[index[cid], c] = True
    contacts = np.array([restraint.contacts.get(int(c), 0) for c in ids], dtype=np.int32)
    quiet = np.isin(ids, list(restraint.recent))
    suppressed = np.isin(ids, list(restraint.complaints))
    advertising = np.array([c.is_advertising for c in campaigns], dtype=bool)
    if restraint.quiet_period is not None:
        # A quiet period stops advertising for everyone, not service calls.
        in_audience[:, advertising] = False
    mask = eligibility_mask(
        in_audience=in_audience,
        channel_consent=consent,
        campaign_channel=np.array([CHANNELS.index(c.channel) for c in campaigns], dtype=np.int64),
        contacts_in_window=contacts,
        contact_cap=contact_cap(),
        quiet=quiet,
        suppressed=suppressed,
        advertising=advertising,
    )
    X = customer_features(ids, as_of=now) if n and k else np.zeros((n, len(FEATURE_NAMES)))
    uplift = np.column_stack([expected_uplift(c, X) for c in campaigns]) if k else np.zeros((n, 0))
    value = customer_values(ids) if n else np.zeros(0)
    cost = np.array([float(c.expected_cost) for c in campaigns])
    result = (
        arbitrate(uplift, value, cost, mask)
        if k
        else arbitrate(np.zeros((n, 1)), value, np.zeros(1), np.zeros((n, 1), dtype=bool))
    )
    return NextBest(
        customer_ids=ids,
        campaigns=campaigns,
        action=result.action,
        score=result.score,
        uplift=uplift,
        value=value,
        restraint=restraint,
        in_audience=in_audience,
        index=index,
    )


def customer_next_best_context(customer: Customer, user: User) -> dict[str, Any]:
    """Return the customer-page panel: the best action now and why (or why none)."""
    if not is_internal(user):
        return {"action": None, "reason": ""}
    audience = Customer.objects.filter(pk=customer.pk)
    best = next_best_actions(audience)
    campaign = best.best_for(customer.pk)
    if campaign is not None:
        j = best.campaigns.index(campaign)
        reason = _(
            "expected uplift %(uplift).1f %% × value %(value).0f € − cost %(cost).2f € "
            "= %(score).2f €"
        ) % {
            "uplift": best.uplift[0, j] * 100,
            "value": best.value[0],
            "cost": float(campaign.expected_cost),
            "score": float(best.score[0]),
        }
        return {
            "action": campaign,
            "reason": reason,
            "risk_reasons": _risk_reasons(customer) if campaign.channel == "phone" else [],
        }
    blockers = sorted(
        {
            best.restraint.reason(customer.pk, c)
            for j, c in enumerate(best.campaigns)
            if best.in_audience[0, j]
        }
        - {""}
    )
    why = [str(REASON_LABELS.get(b, b)) for b in blockers]
    if not best.campaigns:
        why = ["no active campaign"]
    elif not best.in_audience[0].any():
        why = ["in no active campaign's audience"]
    elif not blockers:
        why = [str(REASON_LABELS["not_worth_it"])]
    return {"action": None, "reason": "; ".join(why)}


def _risk_reasons(customer: Customer) -> list[str]:
    from django.utils.translation import get_language

    from stammkunde.analytics.orm import CustomerScore

    score: Any = CustomerScore.objects.filter(customer=customer, is_latest=True).first()
    if score is None:
        return []
    lang = "de" if (get_language() or "de").startswith("de") else "en"
    return [r.get(lang, r.get("en", "")) for r in score.reasons]


def risk_reasons_text(customer: Customer) -> str:
    """Return the customer's churn-risk reasons as lines (for the agent's call task)."""
    score_lines = _risk_reasons(customer)
    return "\n".join(f"- {line}" for line in score_lines) or "-"
