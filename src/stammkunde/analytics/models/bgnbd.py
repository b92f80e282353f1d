"""BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

A customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)`` and after each
repeat purchase drops out with probability ``p ~ Beta(a, b)``. From a
customer's summary ``(x, t_x, T)`` (repeat purchases, time of last purchase,
age; all in one time unit) we estimate the four population parameters by
maximum likelihood and derive expected future purchases and P(alive).

Formulas: Fader, Hardie & Lee (2005) eq. 6 (likelihood), eq. 7 (E[X(t)]),
eq. 10 (conditional expectation); http://brucehardie.com/notes/021/ (P(alive)).
The fit uses the analytic gradient on log-parameters so that scipy's
quasi-Newton optimiser needs few, cheap evaluations.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1

from ._inputs import ArrayLike, FloatArray, as_float, deduplicate
from .base import NumericModel


class ConvergenceError(RuntimeError):
    """Raised when the maximum-likelihood optimiser does not converge."""


def check_summary(frequency: FloatArray, recency: FloatArray, T: FloatArray) -> None:
    """Raise ``ValueError`` for summaries that no BG/NBD customer can produce."""
    if not (frequency.shape == recency.shape == T.shape):
        raise ValueError("frequency, recency and T must have the same length")
    if not np.all(np.isfinite(frequency) & np.isfinite(recency) & np.isfinite(T)):
        raise ValueError("frequency, recency and T must be finite numbers")
    if np.any(frequency < 0) or np.any(recency < 0):
        raise ValueError("frequency and recency must not be negative")
    if np.any(recency > T):
        raise ValueError("recency must not exceed T")
    if np.any(frequency != np.round(frequency)):
        raise ValueError("frequency must be a whole number of repeat purchases")


class BetaGeoModel(NumericModel):
    """BG/NBD model with scikit-learn style ``fit`` and JSON storage.

    Parameters
    ----------
    tol:
        Gradient tolerance of the optimiser on the mean log-likelihood.
    max_iter:
        Maximum optimiser iterations.
    """

    fitted_attributes: ClassVar[tuple[str, ...]] = (
        "r_",
        "alpha_",
        "a_",
        "b_",
        "log_likelihood_",
        "n_customers_",
    )

    def __init__(self, tol: float = 1e-7, max_iter: int = 500) -> None:
        self.tol = tol
        self.max_iter = max_iter

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> BetaGeoModel:
        """Estimate ``r, alpha, a, b`` by maximum likelihood and return ``self``.

        ``weights`` are counts of customers sharing the row; identical rows are
        also merged internally, so passing raw per-customer data is fine.
        """
        x, tx, t_age = as_float(frequency), as_float(recency), as_float(T)
        check_summary(x, tx, t_age)
        x, tx, t_age, w = deduplicate(x, tx, t_age, weights=weights)
        # Rescale time so that alpha is O(1) whatever the unit (days or weeks);
        # the optimiser then starts near the answer for every data set.
        scale = 10.0 / max(float(t_age.max()), 1e-12)
        result = minimize(
            _negative_log_likelihood,
            x0=np.full(4, 0.1),
            args=(_FitData(x, tx * scale, t_age * scale, w / w.sum()),),
            jac=True,
            method="BFGS",
            options={"gtol": self.tol, "maxiter": self.max_iter},
        )
        if not np.all(np.isfinite(result.x)):
            raise ConvergenceError(f"BG/NBD fit did not converge: {result.message}")
        r, alpha, a, b = np.exp(result.x)
        self.r_ = float(r)
        self.alpha_ = float(alpha / scale)
        self.a_ = float(a)
        self.b_ = float(b)
        self.n_customers_ = int(w.sum())
        self.log_likelihood_ = float(
            -_negative_log_likelihood(np.log(self._params()), _FitData(x, tx, t_age, w))[0]
        )
        return self

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> float:
        """Return the total log-likelihood of the given customers under the fitted parameters."""
        self._check_fitted()
        x, tx, t_age = as_float(frequency), as_float(recency), as_float(T)
        data = _FitData(x, tx, t_age, np.ones_like(x))
        return float(-_negative_log_likelihood(np.log(self._params()), data)[0])

    def _params(self) -> FloatArray:
        return np.array([self.r_, self.alpha_, self.a_, self.b_])

    # ------------------------------------------------------------ predict
    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Return E[purchases in the next ``t``] per customer (FHL 2005, eq. 10)."""
        self._check_fitted()
        return conditional_expected_purchases(
            as_float(t), as_float(frequency), as_float(recency), as_float(T), self._params()
        )

    def probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Return P(customer still active) given their history (Hardie note 021)."""
        self._check_fitted()
        x, tx, t_age = as_float(frequency), as_float(recency), as_float(T)
        r, alpha, a, b = self._params()
        log_odds_dead = (r + x) * np.log((alpha + t_age) / (alpha + tx)) + np.log(
            a / (b + np.maximum(x, 1.0) - 1.0)
        )
        # Without a repeat purchase the customer cannot have dropped out yet.
        return np.where(x == 0, 1.0, expit(-log_odds_dead))

    def expected_purchases_new_customer(self, t: ArrayLike) -> FloatArray:
        """Return E[X(t)] for a customer who has just made the first purchase (eq. 7)."""
        self._check_fitted()
        t = as_float(t)
        r, alpha, a, b = self._params()
        hyp = hyp2f1(r, b, a + b - 1.0, t / (alpha + t))
        return (a + b - 1.0) / (a - 1.0) * (1.0 - hyp * (alpha / (alpha + t)) ** r)


def conditional_expected_purchases(
    t: FloatArray, x: FloatArray, tx: FloatArray, t_age: FloatArray, params: FloatArray
) -> FloatArray:
    """Vectorised FHL 2005 eq. 10 with the Euler transform when 2F1 overflows."""
    r, alpha, a, b = params
    ha, hb, hc = r + x, b + x, a + b + x - 1.0
    z = t / (alpha + t_age + t)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ln_hyp = np.log(hyp2f1(ha, hb, hc, z))
        # Large x makes 2F1 overflow; Euler's transformation keeps it finite.
        ln_alt = np.log(hyp2f1(hc - ha, hc - hb, hc, z)) + (hc - ha - hb) * np.log1p(-z)
        ln_hyp = np.where(np.isfinite(ln_hyp), ln_hyp, ln_alt)
        numerator = (
            (a + b + x - 1.0)
            / (a - 1.0)
            * (1.0 - np.exp(ln_hyp + (r + x) * np.log((alpha + t_age) / (alpha + t_age + t))))
        )
        odds_dead = (a / (b + np.maximum(x, 1.0) - 1.0)) * ((alpha + t_age) / (alpha + tx)) ** (
            r + x
        )
    return numerator / (1.0 + np.where(x > 0, odds_dead, 0.0))


class _FitData:
    """Rows for the likelihood, with the frequency-only terms grouped by distinct frequency.

    Why: gammaln/digamma of ``r + x``, ``b + x`` and ``a + b + x`` depend only
    on the frequency, which takes few distinct values; evaluating them once per
    distinct value instead of once per row is most of the fitting speed.
    """

    def __init__(self, x: FloatArray, tx: FloatArray, t_age: FloatArray, w: FloatArray) -> None:
        self.x, self.tx, self.t_age, self.w = x, tx, t_age, w
        self.ux, self.inv = np.unique(x, return_inverse=True)
        self.uw = np.bincount(self.inv, weights=w, minlength=len(self.ux))
        self.repeat = x > 0


def _negative_log_likelihood(log_params: FloatArray, data: _FitData) -> tuple[float, FloatArray]:
    """Weighted negative log-likelihood (FHL 2005 eq. 6) and its gradient in log-parameters."""
    r, alpha, a, b = np.exp(log_params)
    x, tx, t_age, w, ux, uw, inv = data.x, data.tx, data.t_age, data.w, data.ux, data.uw, data.inv
    log_alpha_t = np.log(alpha + t_age)
    log_alpha_tx = np.log(alpha + tx)
    ub_x1 = b + np.maximum(ux, 1.0) - 1.0

    # Frequency-only terms, summed with the total weight of each distinct frequency.
    u_a1 = gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
    u_a2 = gammaln(a + b) + gammaln(b + ux) - gammaln(b) - gammaln(a + b + ux)
    a3 = -(r + x) * log_alpha_t
    a4 = np.where(data.repeat, (np.log(a) - np.log(ub_x1))[inv] - (r + x) * log_alpha_tx, -np.inf)
    top = np.maximum(a3, a4)
    e3, e4 = np.exp(a3 - top), np.exp(a4 - top)
    total = e3 + e4
    ll = uw @ (u_a1 + u_a2) + w @ (top + np.log(total))
    # Softmax weights of the two terms inside the log-sum-exp.
    ws3, ws4 = w * (e3 / total), w * (e4 / total)
    ws4_u = np.bincount(inv, weights=ws4, minlength=len(ux))

    psi_ab_x, psi_ab = digamma(a + b + ux), digamma(a + b)
    d_r = (
        uw @ (digamma(r + ux) - digamma(r) + np.log(alpha)) - ws3 @ log_alpha_t - ws4 @ log_alpha_tx
    )
    d_alpha = uw.sum() * r / alpha - (
        ws3 @ ((r + x) / (alpha + t_age)) + ws4 @ ((r + x) / (alpha + tx))
    )
    d_a = uw @ (psi_ab - psi_ab_x) + ws4.sum() / a
    d_b = uw @ (psi_ab + digamma(b + ux) - digamma(b) - psi_ab_x) - ws4_u @ (1.0 / ub_x1)
    grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return -float(ll), -grad
