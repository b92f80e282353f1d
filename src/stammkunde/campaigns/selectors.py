"""Reads of campaigns: audiences, eligibility (consent and restraint), features, next best action.

Eligibility is decided here and nowhere else, so that the send, the
next-best-action panel and the tests agree on who may be contacted:

* email: the latest marketing/email consent is *granted* and was recorded by
  double opt-in, and the primary address is deliverable;
* letter: postal advertising is allowed unless the customer objected (latest
  marketing/letter consent withdrawn) and there is an address;
* phone: an explicit marketing/phone consent (UWG § 7) and a phone number;
* at most ``CAMPAIGNS_CONTACT_CAP`` contacts in ``CAMPAIGNS_CAP_WINDOW_DAYS``
  across all campaigns, none within ``CAMPAIGNS_MIN_GAP_DAYS`` of the last one,
  no advertising during a quiet period, and none while a complaint or claim
  of the customer is open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User, access_object
from stammkunde.core.roles import is_internal
from stammkunde.customers.models import Address, Consent, Customer, EmailAddress, PhoneNumber

from .models import Campaign, CampaignContact, CampaignEvaluation, QuietPeriod, Segment
from .numeric.arbitration import NO_ACTION, arbitrate, eligibility_mask
from .numeric.uplift import TLearnerUplift
from .segments import segment_queryset

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


# --------------------------------------------------------------------- lists


def campaign_list(*, user: User) -> QuerySet[Campaign]:
    """Return the campaigns the user may see, playbooks first."""
    return Campaign.objects.visible_to(user).select_related("segment")  # type: ignore[return-value]


def campaign_get(*, user: User, pk: Any) -> Campaign:
    """Return a visible campaign or raise 404."""
    return access_object(Campaign.objects.select_related("segment"), user, pk=pk)  # type: ignore[arg-type]


def segment_list(*, user: User) -> QuerySet[Segment]:
    return Segment.objects.visible_to(user)  # type: ignore[return-value]


def segment_get(*, user: User, pk: Any) -> Segment:
    return access_object(Segment.objects.all(), user, pk=pk)  # type: ignore[arg-type]


def evaluation_latest(*, campaign: Campaign) -> CampaignEvaluation | None:
    return campaign.evaluations.order_by("-computed_at", "-id").first()


def segment_customers(segment: Segment, *, now: datetime | None = None) -> QuerySet[Customer]:
    """Return a segment's customers: live rules, or the frozen members."""
    if segment.mode == Segment.Mode.FROZEN and segment.frozen_at is not None:
        return Customer.objects.filter(
            pk__in=segment.memberships.values("customer_id"),
            merged_into__isnull=True,
            erased_at__isnull=True,
        )
    return segment_queryset(segment.rules, now=now)


def segment_count(*, rules: dict[str, Any]) -> int:
    """Return how many customers match ``rules`` now (the live count while editing)."""
    return segment_queryset(rules).count()


def audience_queryset(campaign: Campaign, *, now: datetime | None = None) -> QuerySet[Customer]:
    """Return the campaign's audience before triggers and eligibility.

    A playbook is restricted to customers whose latest score is in its phase.
    """
    qs = (
        segment_customers(campaign.segment, now=now)
        if campaign.segment is not None
        else Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
    )
    if campaign.playbook_phase:
        from stammkunde.analytics.orm import CustomerScore

        qs = qs.filter(
            pk__in=CustomerScore.objects.filter(
                is_latest=True, phase=campaign.playbook_phase
            ).values("customer_id")
        )
    return qs


# --------------------------------------------------------------- eligibility


def _latest_consent(purpose: str, channel: str, column: str) -> Subquery:
    return Subquery(
        Consent.objects.filter(customer_id=OuterRef("pk"), purpose=purpose, channel=channel)
        .order_by("-at", "-id")
        .values(column)[:1]
    )


def email_marketing_ids() -> QuerySet[Any]:
    """Ids of customers whose latest marketing/email consent is a granted double opt-in."""
    return (
        Customer.objects.annotate(
            _status=_latest_consent("marketing", "email", "status"),
            _source=_latest_consent("marketing", "email", "source"),
        )
        .filter(_status=Consent.Status.GRANTED, _source__icontains=DOI_MARK)
        .values("id")
    )


def _ids(qs: QuerySet[Any]) -> set[int]:
    return set(qs.values_list("pk" if qs.model is Customer else "customer_id", flat=True))


def channel_reachable(audience: QuerySet[Customer]) -> dict[str, set[int]]:
    """Return, per channel, the audience ids that may be contacted there (consent + data)."""
    emailable = _ids(
        audience.filter(pk__in=email_marketing_ids()).filter(
            pk__in=EmailAddress.objects.filter(
                is_primary=True, undeliverable_at__isnull=True
            ).values("customer_id")
        )
    )
    letter_objected = Customer.objects.annotate(
        _status=_latest_consent("marketing", "letter", "status")
    ).filter(_status=Consent.Status.WITHDRAWN)
    letter = _ids(
        audience.exclude(pk__in=letter_objected.values("id")).filter(
            pk__in=Address.objects.values("customer_id")
        )
    )
    phone_ok = Customer.objects.annotate(
        _status=_latest_consent("marketing", "phone", "status")
    ).filter(_status=Consent.Status.GRANTED)
    phone = _ids(
        audience.filter(pk__in=phone_ok.values("id")).filter(
            pk__in=PhoneNumber.objects.values("customer_id")
        )
    )
    return {"email": emailable, "letter": letter, "phone": phone}


def contacts_in_window(audience: QuerySet[Customer], *, now: datetime) -> dict[int, int]:
    """Return counted contacts per customer within the cap window (all campaigns)."""
    rows = (
        CampaignContact.objects.filter(
            customer__in=audience.values("pk"),
            group=CampaignContact.Group.TREATMENT,
            status__in=COUNTED,
            contacted_at__gte=now - timedelta(days=cap_window_days()),
        )
        .values("customer_id")
        .annotate(n=Count("id"), last=Max("contacted_at"))
    )
    return {r["customer_id"]: r["n"] for r in rows}


def recently_contacted(audience: QuerySet[Customer], *, now: datetime) -> set[int]:
    """Return the audience ids contacted within the minimum gap (a personal quiet period)."""
    return set(
        CampaignContact.objects.filter(
            customer__in=audience.values("pk"),
            group=CampaignContact.Group.TREATMENT,
            status__in=COUNTED,
            contacted_at__gte=now - timedelta(days=min_gap_days()),
        ).values_list("customer_id", flat=True)
    )


def open_complaint_ids(audience: QuerySet[Customer]) -> set[int]:
    """Return the audience ids with an open complaint or claim (no advertising until solved)."""
    from stammkunde.service.models import OPEN_STATUSES, Ticket

    return set(
        Ticket.objects.filter(
            customer__in=audience.values("pk"),
            status__in=OPEN_STATUSES,
            type__in=[Ticket.Type.COMPLAINT, Ticket.Type.CLAIM],
        ).values_list("customer_id", flat=True)
    )


def in_quiet_period(day: date) -> QuietPeriod | None:
    """Return the quiet period covering ``day``, if any."""
    return QuietPeriod.objects.filter(starts_on__lte=day, ends_on__gte=day).first()


@dataclass
class Restraint:
    """Everything that keeps customers from being contacted, for a set of customers."""

    reachable: dict[str, set[int]]
    contacts: dict[int, int]
    recent: set[int]
    complaints: set[int]
    quiet_period: QuietPeriod | None

    def reason(self, customer_id: int, campaign: Campaign) -> str:
        """Return why the customer may not get the campaign now ("" = may)."""
        if campaign.is_advertising and self.quiet_period is not None:
            return "quiet_period"
        if customer_id not in self.reachable[campaign.channel]:
            return f"no_{campaign.channel}_consent"
        if self.contacts.get(customer_id, 0) >= contact_cap():
            return "contact_cap"
        if customer_id in self.recent:
            return "recently_contacted"
        if campaign.is_advertising and customer_id in self.complaints:
            return "open_complaint"
        return ""


def restraint_for(audience: QuerySet[Customer], *, now: datetime) -> Restraint:
    """Load consent, caps, quiet periods and complaints for ``audience`` (a few queries)."""
    return Restraint(
        reachable=channel_reachable(audience),
        contacts=contacts_in_window(audience, now=now),
        recent=recently_contacted(audience, now=now),
        complaints=open_complaint_ids(audience),
        quiet_period=in_quiet_period(timezone.localdate(now)),
    )


REASON_LABELS = {
    "quiet_period": "quiet period",
    "no_email_consent": "no double opt-in for marketing emails (or address undeliverable)",
    "no_letter_consent": "objected to letters or no postal address",
    "no_phone_consent": "no consent to marketing calls or no phone number",
    "contact_cap": "contact cap reached",
    "recently_contacted": "contacted too recently",
    "open_complaint": "open complaint",
    "budget": "budget exhausted",
    "other_action_preferred": "another action is better for this customer",
    "not_worth_it": "expected uplift does not pay for the contact",
    "already_contacted": "already contacted by this campaign",
}


# ------------------------------------------------------------------ features


FEATURE_NAMES = ("has_returns", "log_days_since_last_order", "log_orders", "log_revenue")


def customer_features(customer_ids: np.ndarray, *, as_of: datetime) -> np.ndarray:
    """Return the uplift features (n, 4) of customers from orders and returns before ``as_of``."""
    from stammkunde.commerce.models import Order, Return

    ids = np.asarray(customer_ids, dtype=np.int64)
    index = {int(c): i for i, c in enumerate(ids)}
    X = np.zeros((ids.size, len(FEATURE_NAMES)))
    X[:, 1] = np.log1p(3650)
    id_list = ids.tolist()
    for lo in range(0, len(id_list), 20_000):
        part = id_list[lo : lo + 20_000]
        orders = (
            Order.objects.filter(
                customer_id__in=part, status=Order.Status.PAID, ordered_at__lt=as_of
            )
            .values("customer_id")
            .annotate(n=Count("id"), revenue=Sum("total"), last=Max("ordered_at"))
        )
        for row in orders:
            i = index[row["customer_id"]]
            days = max((as_of - row["last"]).total_seconds() / 86400, 0.0)
            X[i, 1] = np.log1p(min(days, 3650))
            X[i, 2] = np.log1p(row["n"])
            X[i, 3] = np.log1p(float(row["revenue"] or 0))
        returned = Return.objects.filter(customer_id__in=part, returned_at__lt=as_of).values_list(
            "customer_id", flat=True
        )
        for cid in set(returned):
            X[index[cid], 0] = 1.0
    return X


def expected_uplift(campaign: Campaign, X: np.ndarray) -> np.ndarray:
    """Return the campaign's expected uplift per customer: its model, else its prior."""
    if campaign.uplift_model:
        try:
            model = TLearnerUplift.from_params(campaign.uplift_model)
            return np.clip(model.predict(X), -1.0, 1.0)
        except (ValueError, KeyError):
            pass  # a model of an older version: fall back to the prior
    return np.full(X.shape[0], float(campaign.expected_uplift))


def customer_values(customer_ids: np.ndarray) -> np.ndarray:
    """Return each customer's value if retained: 12-month CLV / P(alive), else the default.

    Uplift is a change of the probability that the customer buys (stays), so
    the value it multiplies is what the customer brings *when* retained. The
    CLV alone would undervalue exactly the customers a win-back is for: their
    CLV is low because they are probably gone (low P(alive)).
    """
    from stammkunde.analytics.orm import CustomerScore

    ids = np.asarray(customer_ids, dtype=np.int64)
    values = np.full(ids.size, default_value())
    index = {int(c): i for i, c in enumerate(ids)}
    id_list = ids.tolist()
    for lo in range(0, len(id_list), 20_000):
        rows = CustomerScore.objects.filter(
            is_latest=True, customer_id__in=id_list[lo : lo + 20_000]
        ).values_list("customer_id", "clv_12m", "p_alive")
        for cid, clv, p_alive in rows:
            values[index[cid]] = float(clv) / max(float(p_alive), 0.1)
    return values


# ------------------------------------------------------- next best action


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
    why = [REASON_LABELS.get(b, b) for b in blockers]
    if not best.campaigns:
        why = ["no active campaign"]
    elif not best.in_audience[0].any():
        why = ["in no active campaign's audience"]
    elif not blockers:
        why = [REASON_LABELS["not_worth_it"]]
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


def campaign_contacts_summary(campaign: Campaign) -> dict[str, Any]:
    """Return contact counts by group and status for the campaign page."""
    rows = campaign.contacts.values("group", "status").annotate(n=Count("id"))
    out: dict[str, Any] = {"treatment": 0, "control": 0, "by_status": {}}
    for r in rows:
        out[r["group"]] += r["n"]
        out["by_status"][r["status"]] = out["by_status"].get(r["status"], 0) + r["n"]
    cost = campaign.contacts.aggregate(s=Sum("cost"))["s"]
    out["cost"] = cost or Decimal("0")
    return out


def campaign_call_tasks(campaign: Campaign, *, limit: int = 50) -> list[dict[str, Any]]:
    """Return the newest call tasks a phone campaign opened (ticket number, customer, status)."""
    from stammkunde.service.models import Ticket

    ids = [
        int(t)
        for t in campaign.contacts.filter(ticket_id__isnull=False)
        .order_by("-contacted_at", "-id")
        .values_list("ticket_id", flat=True)[:limit]
        if t is not None
    ]
    tickets = Ticket.objects.filter(pk__in=ids).select_related("customer").order_by("-id")
    return [
        {
            "number": t.number,
            "customer": t.customer,
            "status": t.get_status_display(),
            "subject": t.subject,
        }
        for t in tickets
    ]


def call_tasks_filter() -> Q:
    """The tickets that are campaign call tasks (tag ``outbound-call``)."""
    return Q(tags__name="outbound-call")
