"""Outcomes of a campaign's contacts from real orders, fed to the numeric evaluator.

Reads only (no writes): ``services.campaign_evaluate`` stores the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import F, Q
from django.utils import timezone

from .models import Campaign, CampaignContact
from .numeric.evaluation import TOO_EARLY, CampaignEvaluator, cumulative_effect
from .numeric.uplift import TLearnerUplift, auuc, qini_coefficient, qini_curve
from .selectors import FEATURE_NAMES, contact_delivery, customer_features

OUTCOMES = ("response", "repurchase", "revenue", "margin", "retention")


@dataclass(frozen=True)
class EvaluationResult:
    summary: dict[str, Any]
    curves: dict[str, Any]
    uplift_model: dict[str, Any] | None
    is_final: bool


def contact_frame(campaign: Campaign) -> pd.DataFrame:
    """Return the campaign's treatment and control contacts (one row per contact).

    Intention to treat: a treated contact whose mail was cancelled (consent
    withdrawn before sending) or bounced stays in the treatment group; dropping
    them would compare a self-selected treatment group with a random control.
    A mail that failed in transport (the relay unreachable or refusing) never
    reached the customer for reasons outside the customer: that contact is not
    treated and leaves the comparison (it is not a control either).
    """
    rows = (
        contact_delivery(campaign.contacts.all())
        .exclude(group=CampaignContact.Group.TREATMENT, delivery="failed")
        .order_by("-contacted_at", "-id")
        .values_list("id", "customer_id", "group", "contacted_at", "cost", "voucher_code")
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=["id", "customer_id", "group", "contacted_at", "cost", "voucher"]
    )
    frame["treated"] = frame["group"] == CampaignContact.Group.TREATMENT
    frame["cost"] = pd.to_numeric(frame["cost"]).astype(float)
    return frame


def order_lines_frame(customer_ids: list[int], start: datetime, end: datetime) -> pd.DataFrame:
    """Return paid order lines of the customers in [start, end] with revenue and margin."""
    from stammkunde.commerce.models import Order, OrderLine

    parts: list[tuple[Any, ...]] = []
    for lo in range(0, len(customer_ids), 20_000):
        part = customer_ids[lo : lo + 20_000]
        parts.extend(
            OrderLine.objects.filter(
                order__customer_id__in=part,
                order__status=Order.Status.PAID,
                order__ordered_at__gt=start,
                order__ordered_at__lte=end,
            )
            .annotate(margin=F("line_total") * F("product__margin_rate"))
            .values_list(
                "order__customer_id", "order_id", "order__ordered_at", "line_total", "margin"
            )
        )
    frame = pd.DataFrame.from_records(
        parts, columns=["customer_id", "order_id", "at", "revenue", "margin"]
    )
    frame["revenue"] = pd.to_numeric(frame["revenue"]).astype(float)
    frame["margin"] = pd.to_numeric(frame["margin"]).astype(float)
    return frame


def _active_subscribers(customer_ids: list[int], day: date) -> set[int]:
    from stammkunde.commerce.models import Subscription

    found: set[int] = set()
    for lo in range(0, len(customer_ids), 20_000):
        found |= set(
            Subscription.objects.filter(
                customer_id__in=customer_ids[lo : lo + 20_000], started_at__lte=day
            )
            .filter(Q(cancelled_at__isnull=True) | Q(cancelled_at__gt=day))
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gte=day))
            .values_list("customer_id", flat=True)
        )
    return found


def _voucher_cost(codes: list[str]) -> float:
    from stammkunde.loyalty.models import VoucherRedemption

    codes = [c for c in codes if c]
    if not codes:
        return 0.0
    total = 0.0
    for lo in range(0, len(codes), 20_000):
        total += float(
            sum(
                VoucherRedemption.objects.filter(
                    voucher__code__in=codes[lo : lo + 20_000]
                ).values_list("discount", flat=True)
            )
        )
    return total


def evaluation_compute(*, campaign: Campaign, as_of: date) -> EvaluationResult:
    """Return the evaluation of ``campaign`` with outcomes observed up to ``as_of``."""
    contacts = contact_frame(campaign)
    horizon = timedelta(days=campaign.horizon_days)
    as_of_end = timezone.make_aware(datetime.combine(as_of, time.max))
    if contacts.empty:
        summary = {
            "recommendation": TOO_EARLY,
            "reason": "no contacts yet",
            "reason_code": "no_contacts",
            "n_treatment": 0,
            "n_control": 0,
        }
        return EvaluationResult(summary, {}, None, False)
    t0 = pd.to_datetime(contacts["contacted_at"], utc=True)
    window_end = np.minimum(t0 + horizon, pd.Timestamp(as_of_end))
    is_final = bool((t0 + horizon).max() <= pd.Timestamp(as_of_end))
    ids = contacts["customer_id"].astype(int).tolist()
    lines = order_lines_frame(ids, t0.min().to_pydatetime(), window_end.max().to_pydatetime())
    # Attribute each line to the contact of its customer, inside that contact's window.
    position = pd.Series(np.arange(len(contacts)), index=contacts["customer_id"].astype(int))
    position = position[~position.index.duplicated()]
    lines = lines[lines["customer_id"].isin(position.index)]
    row = position.loc[lines["customer_id"]].to_numpy()
    at = pd.to_datetime(lines["at"], utc=True).to_numpy()
    inside = (at > t0.to_numpy()[row]) & (at <= window_end.to_numpy()[row])
    lines, row, at = lines[inside], row[inside], at[inside]
    n = len(contacts)
    revenue = np.bincount(row, weights=lines["revenue"].to_numpy(), minlength=n)
    margin = np.bincount(row, weights=lines["margin"].to_numpy(), minlength=n)
    orders = (
        pd.DataFrame({"row": row, "order": lines["order_id"].to_numpy()})
        .drop_duplicates()
        .groupby("row")
        .size()
        .reindex(range(n), fill_value=0)
        .to_numpy()
    )
    subscribers = _active_subscribers(ids, as_of)
    retention = (orders > 0) | contacts["customer_id"].isin(subscribers).to_numpy()
    outcomes = {
        "response": (orders > 0).astype(float),
        "repurchase": (orders > 1).astype(float),
        "revenue": revenue,
        "margin": margin,
        "retention": retention.astype(float),
    }
    treated = contacts["treated"].to_numpy()
    voucher_cost = _voucher_cost(contacts.loc[treated, "voucher"].tolist())
    cost = float(contacts.loc[treated, "cost"].sum()) + voucher_cost
    evaluator = CampaignEvaluator().fit(treated, outcomes, cost=cost)
    summary = evaluator.summary()
    summary["voucher_cost"] = voucher_cost
    summary["horizon_days"] = campaign.horizon_days
    summary["is_final"] = is_final
    if not is_final:
        # Before the horizon the outcomes are incomplete: on the contact day both groups
        # show no margin yet and the booked cost reads as a loss. The advice waits; the
        # evaluator's interim view stays in the summary for experts.
        summary["interim_recommendation"] = summary["recommendation"]
        summary["interim_reason_code"] = summary["reason_code"]
        summary["recommendation"] = TOO_EARLY
        summary["reason_code"] = "horizon_not_reached"
        summary["reason"] = f"horizon not reached; {summary['reason']}"
    summary["horizon_end"] = (t0 + horizon).max().date().isoformat()
    days = ((at - t0.to_numpy()[row]) / np.timedelta64(1, "D")).astype(int)
    curves = {
        "revenue": cumulative_effect(
            treated, days, lines["revenue"].to_numpy(), row, horizon_days=campaign.horizon_days
        ),
        "margin": cumulative_effect(
            treated, days, lines["margin"].to_numpy(), row, horizon_days=campaign.horizon_days
        ),
    }
    X = customer_features(np.asarray(ids), as_of=t0.min().to_pydatetime())
    uplift_summary, model = _uplift(X, treated, outcomes["response"].astype(int))
    summary["uplift"] = uplift_summary
    if "qini_x" in uplift_summary:
        curves["qini"] = {"x": uplift_summary.pop("qini_x"), "y": uplift_summary.pop("qini_y")}
    return EvaluationResult(_json_clean(summary), _json_clean(curves), model, is_final)


def _uplift(X: np.ndarray, treated: np.ndarray, y: np.ndarray) -> tuple[dict[str, Any], Any]:
    """Fit the uplift model; Qini/AUUC on out-of-fold predictions (two folds)."""
    for arm in (treated, ~treated):
        if arm.sum() < 20 or np.unique(y[arm]).size < 2:
            return {"reason": "too few responders in one group for an uplift model"}, None
    rng = np.random.default_rng(0)
    fold = rng.random(len(y)) < 0.5
    predicted = np.zeros(len(y))
    try:
        for part in (fold, ~fold):
            model = TLearnerUplift().fit(X[~part], treated[~part], y[~part])
            predicted[part] = model.predict(X[part])
        full = TLearnerUplift().fit(X, treated, y)
    except ValueError as exc:
        return {"reason": str(exc)}, None
    x, q = qini_curve(y, treated, predicted)
    step = max(1, len(x) // 200)
    weights = dict(
        zip(FEATURE_NAMES, (full.coef_treatment_ - full.coef_control_).tolist(), strict=True)
    )
    return (
        {
            "qini": qini_coefficient(y, treated, predicted),
            "auuc": auuc(y, treated, predicted),
            "auuc_random": auuc(y, treated, np.zeros(len(y))),
            "feature_effects": weights,
            "qini_x": (x[::step] / x[-1]).tolist(),
            "qini_y": q[::step].tolist(),
        },
        full.params_dict(),
    )


def _json_clean(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_clean(v) for v in value]
    return value


def evaluation_reason_text(summary: dict[str, Any]) -> str:
    """Return the reason of the advice in the UI language (from the stored reason code).

    Evaluations stored before reason codes existed keep their English text.
    """
    from django.utils.formats import date_format, number_format
    from django.utils.translation import gettext

    code = summary.get("reason_code")
    if code == "horizon_not_reached":
        end = summary.get("horizon_end")
        text = gettext(
            "The horizon of %(days)s days has not passed yet: the outcomes are incomplete."
        ) % {"days": number_format(summary.get("horizon_days", 0), force_grouping=True)}
        if end:
            text += " " + gettext("Evaluable from %(date)s.") % {
                "date": date_format(date.fromisoformat(end), "SHORT_DATE_FORMAT")
            }
        return text
    texts = {
        "no_contacts": gettext("No contacts yet."),
        "small_groups": gettext(
            "Too few customers in the smaller group (%(n)s, at least %(min)s needed)."
        )
        % {
            "n": number_format(
                min(summary.get("n_treatment", 0), summary.get("n_control", 0)),
                force_grouping=True,
            ),
            "min": number_format(summary.get("min_group_size", 30), force_grouping=True),
        },
        "no_margin": gettext("No margin outcome yet."),
        "roi_above_0": gettext("The incremental margin exceeds the cost (ROI interval above 0)."),
        "roi_below_0": gettext("The incremental margin is below the cost (ROI interval below 0)."),
        "roi_contains_0": gettext("The ROI interval still contains 0."),
        "margin_above_0": gettext("Positive incremental margin at no cost."),
        "margin_below_0": gettext("Negative incremental margin."),
        "margin_contains_0": gettext("The margin interval still contains 0."),
    }
    return texts.get(code or "", str(summary.get("reason", "")))
