"""The scoring pipeline on data frames: population fit, then per-chunk scores.

Django-free on purpose (frames in, frames and JSON out) so that a Celery
worker scoring one chunk needs only the stored JSON of :func:`population_fit`
and that chunk's rows. The services module loads the frames and writes rows.

Frames used here:

- ``tx``: one row per paid order with ``customer_id``, ``date`` (datetime64)
  and ``amount`` (float), sorted by ``customer_id``.
- ``events``: service and shop signals as raw rows, see :func:`signal_features`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score

from .models.bgnbd import BetaGeoModel
from .models.churn import ChurnModel, purchase_features
from .models.clv import customer_lifetime_value
from .models.gamma_gamma import GammaGammaModel
from .models.lifecycle import LifecycleThresholds, lifecycle_phase
from .models.rfm import rfm_segment, rfm_summary
from .models.unvoiced import frequency_trend, unvoiced_dissatisfaction
from .models.value_class import value_classes

#: Bumped when features, labels or thresholds change meaning; stored with every score.
MODEL_VERSION = "2"

#: Churn label: no purchase within this many days after the calibration date.
LABEL_HORIZON_DAYS = 180
#: Every fifth customer (by id) is held out of churn training to measure quality honestly.
HOLDOUT_MODULUS = 5
SIGNAL_WINDOW_DAYS = 90


@dataclass(frozen=True)
class ScoringConfig:
    """Business knobs of the scoring; defaults suit a retail shop with a few purchases a year."""

    clv_months: int = 12
    discount_rate_monthly: float = 0.01
    margin: float = 1.0  # 1.0 = CLV as revenue; set the gross margin to get profit
    class_shares: tuple[float, float] = (0.2, 0.3)
    # The risk is P(no purchase in the next 180 days); in a shop where most customers
    # buy a few times a year its base rate is high, so the cut-offs sit higher than
    # the numeric core's defaults (measured on the demo shop: risk >= 0.9 means about
    # 85 % truly gone, 0.75..0.9 about 60 %).
    risk_threshold: float = 0.9  # an event is raised when the churn risk crosses it
    thresholds: LifecycleThresholds = LifecycleThresholds(churning_risk=0.9, churn_prone_risk=0.75)
    # A falling purchase rate only means something for customers who bought often
    # enough that a quiet quarter is unusual: at least this many purchases in the
    # baseline year before the last 90 days (4 = one expected per quarter).
    min_baseline_purchases: int = 4


def is_holdout(customer_ids: np.ndarray) -> np.ndarray:
    """Return True for customers never used to train the churn model."""
    return np.asarray(customer_ids) % HOLDOUT_MODULUS == 0


def _end(as_of: date) -> pd.Timestamp:
    return pd.Timestamp(as_of) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)


def signal_features(events: dict[str, pd.DataFrame], *, as_of: date) -> pd.DataFrame:
    """Return per-customer signals in the 90 days up to ``as_of`` (index: customer_id).

    ``events`` holds raw rows: ``returns`` (customer_id, at), ``tickets``
    (customer_id, at, complaint, sla_breached, reopened, fcr_failed; 0/1) and
    ``consents`` (customer_id, purpose, status, at), and ``feedback``
    (customer_id, as_of ISO date, survey_score_last, negative_messages_90d),
    already aggregated per day by the feedback app. Missing frames mean the
    shop does not record the signal; the churn model then counts it as 0
    (a survey score as unknown).
    """
    end = _end(as_of)
    start = end - pd.Timedelta(days=SIGNAL_WINDOW_DAYS)
    parts: list[pd.Series | pd.DataFrame] = []
    returns = events.get("returns")
    if returns is not None and len(returns):
        at = returns["at"]
        recent = returns.loc[(at > start) & (at <= end)]
        parts.append(recent.groupby("customer_id").size().rename("returns_90d"))
    tickets = events.get("tickets")
    if tickets is not None and len(tickets):
        at = tickets["at"]
        upto = tickets.loc[at <= end]
        recent = upto.loc[upto["at"] > start]
        grouped = recent.groupby("customer_id")
        parts.append(grouped.size().rename("tickets_90d"))
        for column, name in (
            ("complaint", "complaints_90d"),
            ("sla_breached", "sla_breaches_90d"),
            ("reopened", "reopened_90d"),
            ("fcr_failed", "fcr_failed_90d"),
        ):
            if column in recent:
                parts.append(grouped[column].sum().rename(name))
        if "complaint" in upto:
            parts.append(upto.groupby("customer_id")["complaint"].sum().rename("complaints_total"))
    consents = events.get("consents")
    if consents is not None and len(consents):
        upto = consents.loc[consents["at"] <= end].sort_values(["at"], kind="stable")
        latest = upto.drop_duplicates(["customer_id", "purpose", "channel"], keep="last")
        withdrawn = latest.loc[
            latest["purpose"].isin(["marketing", "newsletter"]) & (latest["status"] == "withdrawn")
        ]
        parts.append(withdrawn.groupby("customer_id").size().clip(upper=1).rename("unsubscribed"))
    feedback = events.get("feedback")
    if feedback is not None and len(feedback):
        # Already aggregated per day by the feedback app; pick the rows of this day.
        today = feedback.loc[feedback["as_of"] == as_of.isoformat()].set_index("customer_id")
        parts.extend(today[c] for c in _FEEDBACK_COLUMNS if c in today)
    if not parts:
        return pd.DataFrame(index=pd.Index([], name="customer_id"))
    return _fill_counts(pd.concat(parts, axis=1)).rename_axis("customer_id")


#: Per-customer columns the feedback app provides (``feedback.selectors.feedback_signals``).
_FEEDBACK_COLUMNS = ("survey_score_last", "negative_messages_90d")
#: Signals where a missing value means "unknown", not "none": they stay NaN.
_UNKNOWN_WHEN_MISSING = frozenset({"survey_score_last", "sentiment_last"})


def _fill_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill missing counts with 0 but keep unknown scores NaN (a missing survey is not a 0)."""
    counts = [c for c in frame.columns if c not in _UNKNOWN_WHEN_MISSING]
    frame[counts] = frame[counts].fillna(0)
    return frame


def summary_of(
    tx: pd.DataFrame, *, as_of: date, calibration_end: date | None = None
) -> pd.DataFrame:
    """Return the daily RFM summary (index customer_id) of transactions up to ``as_of``."""
    return rfm_summary(
        tx,
        customer_col="customer_id",
        date_col="date",
        amount_col="amount",
        observation_end=_end(as_of),
        freq="D",
        calibration_end=None if calibration_end is None else _end(calibration_end),
    )


def median_gap(summary: pd.DataFrame) -> float:
    """Return the population's median time between purchases (days), for one-off buyers."""
    x, tx = summary["frequency"].to_numpy(), summary["recency"].to_numpy()
    gaps = tx[x > 0] / x[x > 0]
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if len(gaps) else max(float(summary["T"].median()), 1.0)


def average_order(tx: pd.DataFrame, *, upto: date | None = None) -> pd.Series:
    """Return each customer's mean order amount over all orders (up to ``upto``).

    The mean of all orders, first one included, is what the customer page shows
    as "average order value"; the churn model uses the same number so that a
    reason "small baskets" names the figure next to it. (The RFM summary's
    ``monetary_value`` averages repeat orders only and is 0 for one-off buyers;
    it stays the Gamma-Gamma input, as that model requires.)
    """
    if upto is not None:
        tx = tx.loc[tx["date"] <= _end(upto)]
    return tx.groupby("customer_id")["amount"].mean()


def _features(
    summary: pd.DataFrame,
    bg: BetaGeoModel,
    signals: pd.DataFrame,
    *,
    gap: float,
    order_value: pd.Series,
) -> pd.DataFrame:
    p_alive = bg.probability_alive(summary["frequency"], summary["recency"], summary["T"])
    features = purchase_features(
        summary["frequency"],
        summary["recency"],
        summary["T"],
        order_value.reindex(summary.index).to_numpy(dtype=np.float64),
        p_alive,
    )
    features.index = summary.index
    # One-off buyers are measured against the population's rhythm; the core takes
    # the median of the frame it gets, so a chunk would otherwise use its own.
    x, tx = summary["frequency"].to_numpy(), summary["recency"].to_numpy()
    no_rhythm = ~((x > 0) & (tx > 0))
    idle = (summary["T"] - summary["recency"]).to_numpy()
    features.loc[no_rhythm, "recency_drift"] = idle[no_rhythm] / gap
    return features.join(_fill_counts(signals.reindex(summary.index)))


def _quality(y: np.ndarray, risk: np.ndarray) -> dict[str, Any]:
    """AUC, Brier score, top-decile lift and reliability bins of held-out predictions."""
    if len(y) < 20 or y.min() == y.max():
        return {"n_holdout": int(len(y))}
    order = np.argsort(-risk, kind="stable")
    top = order[: max(1, len(y) // 10)]
    prob_true, prob_pred = calibration_curve(y, risk, n_bins=10, strategy="quantile")
    return {
        "n_holdout": int(len(y)),
        "base_rate": float(y.mean()),
        "auc": float(roc_auc_score(y, risk)),
        "brier": float(brier_score_loss(y, risk)),
        "top_decile_lift": float(y[top].mean() / y.mean()),
        "reliability": {"predicted": prob_pred.tolist(), "observed": prob_true.tolist()},
    }


def population_fit(
    tx: pd.DataFrame,
    events: dict[str, pd.DataFrame],
    *,
    as_of: date,
    config: ScoringConfig | None = None,
) -> dict[str, Any]:
    """Fit everything that needs the whole customer base; return it as plain JSON.

    The churn model is trained at a calibration date ``as_of - 180 days`` with
    features as of then and the label "no purchase in the next 180 days", on
    customers outside the hold-out; its quality is measured on the hold-out.
    Class cut-offs and RFM score edges are population quantiles, stored so
    that each chunk classifies its customers exactly like a single pass would.
    """
    cfg = config or ScoringConfig()
    summary = summary_of(tx, as_of=as_of) if len(tx) else tx.iloc[:0]
    if len(summary) < 10:
        raise ValueError(f"too few customers with purchases to fit models ({len(summary)})")
    bg = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    gg = GammaGammaModel().fit(summary["frequency"], summary["monetary_value"])

    # --- churn model at the calibration date (no look-ahead into its features)
    cal = as_of - timedelta(days=LABEL_HORIZON_DAYS)
    churn: dict[str, Any] | None = None
    quality: dict[str, Any] = {}
    tx_cal = tx.loc[tx["date"] <= _end(as_of)]
    if (tx_cal["date"] <= _end(cal)).sum() > 0:
        cal_summary = summary_of(tx_cal, as_of=as_of, calibration_end=cal)
        if len(cal_summary) >= 50:
            bg_cal = BetaGeoModel().fit(
                cal_summary["frequency"], cal_summary["recency"], cal_summary["T"]
            )
            X = _features(
                cal_summary,
                bg_cal,
                signal_features(events, as_of=cal),
                gap=median_gap(cal_summary),
                order_value=average_order(tx_cal, upto=cal),
            )
            y = (cal_summary["frequency_holdout"].to_numpy() == 0).astype(int)
            held = is_holdout(cal_summary.index.to_numpy())
            if y[~held].min() != y[~held].max():
                model = ChurnModel().fit(X.loc[~held], y[~held])
                churn = model.params_dict()
                quality = _quality(y[held], model.predict_proba(X.loc[held]))
                quality["n_train"] = int((~held).sum())

    clv = customer_lifetime_value(
        bg,
        gg,
        summary["frequency"],
        summary["recency"],
        summary["T"],
        summary["monetary_value"],
        months=cfg.clv_months,
        discount_rate_monthly=cfg.discount_rate_monthly,
        margin=cfg.margin,
    )
    classes = value_classes(clv, shares=cfg.class_shares)
    cut_a = float(clv[classes == "A"].min()) if (classes == "A").any() else float("inf")
    cut_b = float(clv[classes == "B"].min()) if (classes == "B").any() else float("inf")
    idle = (summary["T"] - summary["recency"]).to_numpy()
    levels = [0.2, 0.4, 0.6, 0.8]
    return {
        "model_version": MODEL_VERSION,
        "as_of": as_of.isoformat(),
        "calibration_date": cal.isoformat(),
        "bgnbd": bg.params_dict(),
        "gamma_gamma": gg.params_dict(),
        "churn": churn,
        "quality": quality,
        "class_cutoffs": {"A": cut_a, "B": cut_b},
        # Higher score = more recent: edges of the negated idle time.
        "rfm_edges": {
            "r": np.quantile(-idle, levels).tolist(),
            "f": np.quantile(summary["frequency"], levels).tolist(),
        },
        "config": {
            "clv_months": cfg.clv_months,
            "discount_rate_monthly": cfg.discount_rate_monthly,
            "margin": cfg.margin,
            "risk_threshold": cfg.risk_threshold,
            "min_baseline_purchases": cfg.min_baseline_purchases,
            "thresholds": cfg.thresholds.__dict__,
        },
        "median_gap_days": median_gap(summary),
        "n_customers": int(len(summary)),
        "n_transactions": int(len(tx_cal)),
    }


def _score_by_edges(values: np.ndarray, edges: list[float]) -> np.ndarray:
    # Score 1..5: how many quintile edges the value exceeds (ties go to the lower score).
    return 1 + np.searchsorted(np.asarray(edges), values, side="left")


def _reason_value(feature: str, value: float) -> float:
    """Round a reason's input as the page shows it: counts and days whole, the rest to 4 places."""
    if feature in _WHOLE_FEATURES:
        return float(round(value))
    return round(float(value), 4)


#: Inputs that are whole numbers (counts, days); the others are amounts, shares or ratios.
_WHOLE_FEATURES = frozenset(
    {
        "recency_days",
        "frequency",
        "T_days",
        "tickets_90d",
        "complaints_90d",
        "returns_90d",
        "sla_breaches_90d",
        "reopened_90d",
        "fcr_failed_90d",
        "loyalty_active",
        "unsubscribed",
    }
)


def churn_inputs(
    tx: pd.DataFrame,
    events: dict[str, pd.DataFrame],
    *,
    fit: dict[str, Any],
    summary: pd.DataFrame | None = None,
    signals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the churn model's input per customer of ``tx`` as of the fit's date.

    The one place the scoring inputs are built, so that the reasons shown and
    any later explanation use exactly what the model saw.
    """
    as_of = date.fromisoformat(fit["as_of"])
    bg = BetaGeoModel.from_params(fit["bgnbd"])
    summary = summary_of(tx, as_of=as_of) if summary is None else summary
    signals = signal_features(events, as_of=as_of) if signals is None else signals
    return _features(
        summary,
        bg,
        signals,
        gap=fit["median_gap_days"],
        order_value=average_order(tx, upto=as_of),
    )


def score_chunk(
    tx: pd.DataFrame,
    events: dict[str, pd.DataFrame],
    *,
    fit: dict[str, Any],
) -> pd.DataFrame:
    """Return one row of scores per customer of ``tx`` (index customer_id).

    Columns: frequency, recency_days, T_days, monetary, p_alive,
    expected_purchases_90d, clv_12m, value_class, rfm_segment, churn_risk,
    reasons (list of dicts), phase, unvoiced, unvoiced_evidence (list).
    """
    as_of = date.fromisoformat(fit["as_of"])
    cfg = fit["config"]
    bg = BetaGeoModel.from_params(fit["bgnbd"])
    gg = GammaGammaModel.from_params(fit["gamma_gamma"])
    summary = summary_of(tx, as_of=as_of)
    x, tx_, t_age, m = (
        summary[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value")
    )
    signals = signal_features(events, as_of=as_of)
    order_value = average_order(tx, upto=as_of).reindex(summary.index)
    features = churn_inputs(tx, events, fit=fit, summary=summary, signals=signals)
    out = pd.DataFrame(index=summary.index)
    out["frequency"] = x.astype(np.int64)
    out["recency_days"] = t_age - tx_
    out["T_days"] = t_age
    # The mean of all orders (not only repeat ones): what a person reads as "average order".
    out["monetary"] = order_value.round(2)
    out["p_alive"] = features["p_alive"].to_numpy()
    out["expected_purchases_90d"] = bg.expected_purchases(90.0, x, tx_, t_age)
    clv = customer_lifetime_value(
        bg,
        gg,
        x,
        tx_,
        t_age,
        m,
        months=cfg["clv_months"],
        discount_rate_monthly=cfg["discount_rate_monthly"],
        margin=cfg["margin"],
    )
    out["clv_12m"] = np.round(clv, 2)
    cut = fit["class_cutoffs"]
    out["value_class"] = np.where(clv >= cut["A"], "A", np.where(clv >= cut["B"], "B", "C"))
    r_score = _score_by_edges(-(t_age - tx_), fit["rfm_edges"]["r"])
    f_score = _score_by_edges(x, fit["rfm_edges"]["f"])
    out["rfm_segment"] = rfm_segment(r_score, f_score)

    reasons: dict[Any, list[dict[str, Any]]] = {}
    if fit.get("churn"):
        model = ChurnModel.from_params(fit["churn"])
        risk = model.predict_proba(features)
        long = model.reasons(features, top=3)
        for cid, feature, value, contribution, direction, de, en in zip(
            long["customer"].tolist(),
            long["feature"].tolist(),
            long["value"].tolist(),
            long["contribution"].tolist(),
            long["direction"].tolist(),
            long["text_de"].tolist(),
            long["text_en"].tolist(),
            strict=True,
        ):
            reasons.setdefault(cid, []).append(
                {
                    "feature": feature,
                    # The model's input for this customer, so the page can show it.
                    "value": _reason_value(feature, value),
                    "direction": direction,
                    "contribution": round(contribution, 3),
                    "de": de,
                    "en": en,
                }
            )
    else:
        # Too little history for a churn model: P(alive) is the best risk we have.
        risk = 1.0 - features["p_alive"].to_numpy()
    out["churn_risk"] = np.clip(risk, 0.0, 1.0)
    out["reasons"] = [reasons.get(cid, []) for cid in summary.index]
    th = LifecycleThresholds(**cfg["thresholds"])
    out["phase"] = lifecycle_phase(t_age, out["p_alive"], out["churn_risk"], thresholds=th)

    trend = frequency_trend(tx, customer_col="customer_id", date_col="date", as_of=_end(as_of))
    age_days = (_end(as_of) - tx["date"]).dt.days.to_numpy()
    in_baseline = (age_days >= 90) & (age_days < 90 + 365)
    baseline_count = pd.Series(in_baseline.astype(int)).groupby(tx["customer_id"].to_numpy()).sum()
    regular = baseline_count.reindex(trend.index).fillna(0) >= cfg["min_baseline_purchases"]
    trend = trend.where(regular)
    unvoiced_in = _fill_counts(signals.reindex(summary.index))
    unvoiced_in["frequency_trend"] = trend.reindex(summary.index)
    flagged = unvoiced_dissatisfaction(unvoiced_in)
    out["unvoiced"] = summary.index.isin(flagged.index)
    evidence = flagged["evidence"].to_dict()
    out["unvoiced_evidence"] = [evidence.get(cid, []) for cid in summary.index]
    return out
