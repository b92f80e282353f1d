"""Uplift modelling: a T-learner on scikit-learn's logistic regression, Qini and AUUC.

Why a T-learner with logistic regression: it needs only a campaign with a
random control group, it is the meta-learner with the fewest moving parts,
and its fitted state (two coefficient vectors and the scaling) is stored as
JSON with a model version — never pickled. Features are scaled once on the
pooled data so both arms share one coordinate system.

Qini curve (Radcliffe 2007): customers sorted by predicted uplift, at each
cut-off ``Q(k) = R_T(k) − R_C(k) · N_T(k) / N_C(k)`` with ``R`` the
responders and ``N`` the customers of each arm among the top ``k``. The Qini
coefficient here is normalised like scikit-uplift's ``qini_auc_score``:
(area under the model's curve − area under the random line) divided by the
same for the perfect ordering; 0 is random, 1 is perfect. AUUC is the area
under the uplift curve ``(R_T/N_T − R_C/N_C) · k``, both axes as shares of
all customers.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.linear_model import LogisticRegression

from stammkunde.analytics.models.base import NumericModel


class TLearnerUplift(NumericModel):
    """Two logistic regressions (treatment, control); uplift = p_T(x) − p_C(x).

    Parameters
    ----------
    C:
        Inverse regularisation strength of both regressions.
    max_iter:
        Iteration limit of the solver.
    """

    fitted_attributes: ClassVar[tuple[str, ...]] = (
        "mean_",
        "scale_",
        "coef_treatment_",
        "intercept_treatment_",
        "coef_control_",
        "intercept_control_",
    )
    model_version: ClassVar[int] = 1
    # Learned (exist only after fit).
    mean_: np.ndarray
    scale_: np.ndarray
    coef_treatment_: np.ndarray
    intercept_treatment_: float
    coef_control_: np.ndarray
    intercept_control_: float

    def __init__(self, *, C: float = 1.0, max_iter: int = 1000) -> None:  # noqa: N803
        self.C = C
        self.max_iter = max_iter

    def fit(self, X: np.ndarray, treatment: np.ndarray, y: np.ndarray) -> TLearnerUplift:  # noqa: N803
        """Fit one response model per arm; ``treatment`` and ``y`` are 0/1 arrays."""
        X = np.asarray(X, dtype=np.float64)
        treatment = np.asarray(treatment, dtype=bool)
        y = np.asarray(y, dtype=np.int64)
        if X.ndim != 2 or X.shape[0] != treatment.size or y.size != treatment.size:
            raise ValueError("X must be (n, p) with n = len(treatment) = len(y)")
        for arm, name in ((treatment, "treatment"), (~treatment, "control")):
            if np.unique(y[arm]).size < 2:
                raise ValueError(f"the {name} group needs responders and non-responders")
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        Z = (X - self.mean_) / self.scale_
        for arm, name in ((treatment, "treatment"), (~treatment, "control")):
            model = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(Z[arm], y[arm])
            setattr(self, f"coef_{name}_", model.coef_.ravel().astype(np.float64))
            setattr(self, f"intercept_{name}_", float(model.intercept_[0]))
        return self

    def _proba(self, Z: np.ndarray, arm: str) -> np.ndarray:
        logit = Z @ getattr(self, f"coef_{arm}_") + getattr(self, f"intercept_{arm}_")
        return 1.0 / (1.0 + np.exp(-logit))

    def predict_response(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: N803
        """Return the response probabilities (treated, not treated) per customer."""
        self._check_fitted()
        Z = (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_
        return self._proba(Z, "treatment"), self._proba(Z, "control")

    def predict(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        """Return the predicted uplift (change of response probability) per customer."""
        p_t, p_c = self.predict_response(X)
        return p_t - p_c


def qini_curve(
    y: np.ndarray, treatment: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (customers targeted, Qini incremental responders) at every cut-off.

    Ties in ``score`` are kept together (the curve has a point only where the
    score changes), so a constant score gives the random line.
    """
    y = np.asarray(y, dtype=np.float64)
    treatment = np.asarray(treatment, dtype=bool)
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
    s = np.asarray(score)[order]
    y_o, t_o = y[order], treatment[order]
    n_t = np.cumsum(t_o)
    n_c = np.cumsum(~t_o)
    r_t = np.cumsum(y_o * t_o)
    r_c = np.cumsum(y_o * ~t_o)
    # Last index of each tie block.
    ends = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(n_c[ends] > 0, r_t[ends] - r_c[ends] * n_t[ends] / n_c[ends], r_t[ends])
    return np.r_[0, ends + 1].astype(np.float64), np.r_[0.0, q]


def _area(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.trapezoid(y, x))


def qini_coefficient(y: np.ndarray, treatment: np.ndarray, score: np.ndarray) -> float:
    """Return the normalised Qini coefficient: 0 = random targeting, 1 = perfect."""
    y = np.asarray(y, dtype=np.float64)
    treatment = np.asarray(treatment, dtype=bool)
    x, q = qini_curve(y, treatment, score)
    random_area = _area(np.array([0.0, x[-1]]), np.array([0.0, q[-1]]))
    # Perfect: treated responders first, control responders last.
    perfect = y * treatment - y * ~treatment
    xp, qp = qini_curve(y, treatment, perfect)
    denominator = _area(xp, qp) - random_area
    if denominator == 0:
        return float("nan")
    return (_area(x, q) - random_area) / denominator


def uplift_curve(
    y: np.ndarray, treatment: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (customers targeted, (rate_T − rate_C) · targeted) at every cut-off."""
    y = np.asarray(y, dtype=np.float64)
    treatment = np.asarray(treatment, dtype=bool)
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
    s = np.asarray(score)[order]
    y_o, t_o = y[order], treatment[order]
    n_t, n_c = np.cumsum(t_o), np.cumsum(~t_o)
    r_t, r_c = np.cumsum(y_o * t_o), np.cumsum(y_o * ~t_o)
    ends = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1]
    k = ends + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n_t[ends] > 0, r_t[ends] / n_t[ends], 0.0) - np.where(
            n_c[ends] > 0, r_c[ends] / n_c[ends], 0.0
        )
    return np.r_[0, k].astype(np.float64), np.r_[0.0, rate * k]


def auuc(y: np.ndarray, treatment: np.ndarray, score: np.ndarray) -> float:
    """Return the area under the uplift curve per customer (higher is better)."""
    x, u = uplift_curve(y, treatment, score)
    n = x[-1]
    # Both axes as shares of all customers: the curve ends at the average effect.
    return _area(x / n, u / n) if n else float("nan")
