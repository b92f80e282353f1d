"""Churn risk: a calibrated, explainable classifier over purchase and service signals.

Why logistic regression with sigmoid calibration (scikit-learn's
``CalibratedClassifierCV``) rather than boosting: every prediction must come
with reasons an agent can read, and the stored model must be plain JSON
numbers (never a pickle). On log-transformed, standardised features a linear
model's logit is a sum of per-feature contributions ``coef * z``, which are
the reasons; calibration keeps the probabilities honest for thresholds.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from ._inputs import ArrayLike, FloatArray, as_float
from .base import NumericModel

#: Features the model understands, in model order.
FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary_value",
    "T_days",
    "p_alive",
    "recency_drift",
    "tickets_90d",
    "complaints_90d",
    "returns_90d",
    "sla_breaches_90d",
    "reopened_90d",
    "fcr_failed_90d",
    "survey_score_last",
    "loyalty_active",
    "unsubscribed",
)

# Heavy-tailed counts and durations: log1p makes a linear effect plausible.
_LOG_FEATURES = frozenset(FEATURES) - {
    "p_alive",
    "survey_score_last",
    "loyalty_active",
    "unsubscribed",
}
# Absent means "no survey answered", not "scored 0": imputed with the training median.
_NAN_MEANS_UNKNOWN = frozenset({"survey_score_last"})

#: Phrase per feature and direction ("high" when the value is above average), (German, English).
PHRASES: dict[str, dict[str, tuple[str, str]]] = {
    "recency_days": {
        "high": ("lange kein Kauf mehr", "no purchase for a long time"),
        "low": ("erst kürzlich gekauft", "bought only recently"),
    },
    "frequency": {
        "high": ("kauft sehr häufig", "buys very often"),
        "low": ("kauft selten", "buys rarely"),
    },
    "monetary_value": {
        "high": ("hohe Warenkörbe", "large baskets"),
        "low": ("kleine Warenkörbe", "small baskets"),
    },
    "T_days": {
        "high": ("langjähriger Kunde", "long-standing customer"),
        "low": ("noch junge Kundenbeziehung", "young customer relationship"),
    },
    "p_alive": {
        "high": ("Kaufmuster spricht für Aktivität", "purchase pattern looks active"),
        "low": ("Kaufmuster deutet auf Inaktivität", "purchase pattern suggests inactivity"),
    },
    "recency_drift": {
        "high": (
            "kauft deutlich seltener als sonst üblich",
            "overdue compared with their usual rhythm",
        ),
        "low": ("kauft im gewohnten Rhythmus", "buys at their usual rhythm"),
    },
    "tickets_90d": {
        "high": ("viele Service-Anfragen in 90 Tagen", "many service tickets in 90 days"),
        "low": ("kaum Service-Anfragen", "hardly any service tickets"),
    },
    "complaints_90d": {
        "high": ("Beschwerden in den letzten 90 Tagen", "complaints in the last 90 days"),
        "low": ("keine Beschwerden", "no complaints"),
    },
    "returns_90d": {
        "high": ("mehrere Retouren in 90 Tagen", "several returns in 90 days"),
        "low": ("kaum Retouren", "hardly any returns"),
    },
    "sla_breaches_90d": {
        "high": ("zugesagte Antwortzeiten überschritten", "response-time promises broken"),
        "low": ("Antwortzeiten eingehalten", "response times met"),
    },
    "reopened_90d": {
        "high": ("Anfragen mussten wieder geöffnet werden", "tickets had to be reopened"),
        "low": ("Anfragen blieben gelöst", "tickets stayed solved"),
    },
    "fcr_failed_90d": {
        "high": ("Anliegen nicht beim ersten Kontakt gelöst", "issues not solved on first contact"),
        "low": ("Anliegen beim ersten Kontakt gelöst", "issues solved on first contact"),
    },
    "survey_score_last": {
        "high": ("gute Bewertung in der letzten Umfrage", "good score in the last survey"),
        "low": ("schlechte Bewertung in der letzten Umfrage", "poor score in the last survey"),
    },
    "loyalty_active": {
        "high": ("aktiv im Treueprogramm", "active in the loyalty programme"),
        "low": ("nicht aktiv im Treueprogramm", "not active in the loyalty programme"),
    },
    "unsubscribed": {
        "high": ("hat sich vom Newsletter abgemeldet", "unsubscribed from the newsletter"),
        "low": ("erhält den Newsletter", "receives the newsletter"),
    },
}


def purchase_features(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    p_alive: ArrayLike,
    *,
    time_unit_days: float = 1.0,
) -> pd.DataFrame:
    """Return the purchase-behaviour features from an RFM summary and BG/NBD P(alive).

    ``recency_drift`` is the time since the last purchase divided by the
    customer's own mean time between purchases: 3 means "three usual gaps
    overdue", which is comparable between weekly and yearly buyers. One-off
    buyers have no rhythm of their own and get the population median gap.
    """
    x, tx, t_age = as_float(frequency), as_float(recency), as_float(T)
    with np.errstate(divide="ignore", invalid="ignore"):
        own_gap = np.where(x > 0, tx / x, np.nan)
    known = own_gap[np.isfinite(own_gap) & (own_gap > 0)]
    median_gap = float(np.median(known)) if len(known) else max(float(np.median(t_age)), 1.0)
    gap = np.where(np.isfinite(own_gap) & (own_gap > 0), own_gap, median_gap)
    return pd.DataFrame(
        {
            "recency_days": (t_age - tx) * time_unit_days,
            "frequency": x,
            "monetary_value": as_float(monetary_value),
            "T_days": t_age * time_unit_days,
            "p_alive": as_float(p_alive),
            "recency_drift": (t_age - tx) / gap,
        }
    )


class ChurnModel(NumericModel):
    """Calibrated logistic churn classifier with per-customer reasons.

    Parameters
    ----------
    C:
        Inverse L2 regularisation strength of the logistic regression.
    cv:
        Folds for the sigmoid calibration (``CalibratedClassifierCV``).
    max_iter:
        Iterations of the logistic regression solver.
    """

    fitted_attributes: ClassVar[tuple[str, ...]] = (
        "feature_names_",
        "medians_",
        "mean_",
        "scale_",
        "coef_",
        "intercept_",
        "calibration_a_",
        "calibration_b_",
    )

    def __init__(self, C: float = 1.0, cv: int = 5, max_iter: int = 1000) -> None:
        self.C = C
        self.cv = cv
        self.max_iter = max_iter

    def fit(self, X: pd.DataFrame, y: ArrayLike) -> ChurnModel:
        """Fit on features ``X`` (see :data:`FEATURES`) and churn labels ``y`` (1 = churned)."""
        raw = _select(X)
        self.feature_names_ = list(FEATURES)
        with warnings.catch_warnings():
            # A column that is NaN everywhere has no median; it then imputes 0.
            warnings.simplefilter("ignore", RuntimeWarning)
            self.medians_ = np.nan_to_num(np.nanmedian(raw, axis=0))
        transformed = self._transform(raw)
        scaler = StandardScaler().fit(transformed)
        self.mean_ = scaler.mean_.astype(np.float64)
        # Constant columns (e.g. a signal a shop does not record) get scale 1, not 0.
        self.scale_ = np.where(scaler.scale_ > 0, scaler.scale_, 1.0).astype(np.float64)
        z = (transformed - self.mean_) / self.scale_
        calibrated = CalibratedClassifierCV(
            LogisticRegression(C=self.C, max_iter=self.max_iter),
            method="sigmoid",
            cv=self.cv,
            ensemble=False,
        ).fit(z, np.asarray(y).astype(int))
        fitted = calibrated.calibrated_classifiers_[0]
        self.coef_ = fitted.estimator.coef_[0].astype(np.float64)
        self.intercept_ = float(fitted.estimator.intercept_[0])
        self.calibration_a_ = float(fitted.calibrators[0].a_)
        self.calibration_b_ = float(fitted.calibrators[0].b_)
        return self

    def _transform(self, raw: FloatArray) -> FloatArray:
        filled = np.where(np.isnan(raw), self.medians_, raw)
        log_cols = np.array([name in _LOG_FEATURES for name in FEATURES])
        filled[:, log_cols] = np.log1p(np.clip(filled[:, log_cols], 0.0, None))
        return filled

    def _standardised(self, X: pd.DataFrame) -> FloatArray:
        self._check_fitted()
        return (self._transform(_select(X)) - self.mean_) / self.scale_

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        """Return the calibrated churn probability per row (1-D array).

        Same numbers as scikit-learn's ``CalibratedClassifierCV.predict_proba``
        (binary sigmoid calibration), computed from the stored coefficients.
        """
        logit = self._standardised(X) @ self.coef_ + self.intercept_
        return expit(-(self.calibration_a_ * logit + self.calibration_b_))

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return each feature's push on the churn logit against an average customer.

        Positive means "raises the risk". The calibration is monotone, so its
        slope only fixes the sign.
        """
        sign = -np.sign(self.calibration_a_) if self.calibration_a_ != 0 else 1.0
        values = self._standardised(X) * self.coef_ * sign
        return pd.DataFrame(values, index=X.index, columns=self.feature_names_)

    def reasons(self, X: pd.DataFrame, top: int = 3) -> pd.DataFrame:
        """Return up to ``top`` risk-raising reasons per customer in German and English.

        Long format: one row per (customer, rank) with ``feature``, ``value``
        (the customer's own input, as given), ``contribution``, ``text_de``
        and ``text_en``. A reason is a feature that pushed this customer's
        risk up (contribution > 0); the phrase's direction ("high"/"low") is
        the side of the average the customer's value lies on. Features that
        lower the risk are not reasons, and neither is an unknown input (a
        missing survey score): its imputed median says nothing about this
        customer.
        """
        raw = _select(X)
        contrib = self.contributions(X).to_numpy()
        # An unknown input is no reason, whatever its imputed value contributes.
        eligible = np.where(np.isnan(raw), -np.inf, contrib)
        z = self._standardised(X)
        order = np.argsort(-eligible, axis=1, kind="stable")[:, :top]
        top_values = np.take_along_axis(contrib, order, axis=1)
        keep = np.take_along_axis(eligible, order, axis=1) > 0
        high = np.take_along_axis(z, order, axis=1) > 0
        rows, ranks = np.nonzero(keep)
        feature_idx = order[rows, ranks]
        names = np.array(self.feature_names_, dtype=object)
        texts = np.array(
            [[PHRASES[name]["low"], PHRASES[name]["high"]] for name in self.feature_names_],
            dtype=object,
        )  # shape (features, 2 directions, 2 languages)
        direction = high[rows, ranks].astype(int)
        return pd.DataFrame(
            {
                "customer": X.index.to_numpy()[rows],
                "rank": ranks + 1,
                "feature": names[feature_idx],
                "value": raw[rows, feature_idx],
                "contribution": top_values[rows, ranks],
                "direction": np.where(direction == 1, "high", "low"),
                "text_de": texts[feature_idx, direction, 0],
                "text_en": texts[feature_idx, direction, 1],
            }
        )


def _select(X: pd.DataFrame) -> FloatArray:
    """Return the model's features as a float matrix; absent columns count as 0 (or unknown)."""
    columns = []
    for name in FEATURES:
        if name in X:
            columns.append(pd.to_numeric(X[name]).to_numpy(dtype=np.float64))
        else:
            fill = np.nan if name in _NAN_MEANS_UNKNOWN else 0.0
            columns.append(np.full(len(X), fill))
    return np.column_stack(columns) if columns else np.empty((len(X), 0))
