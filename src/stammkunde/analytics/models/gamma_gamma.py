"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV", appendix; Hardie note 025).

A customer's transaction values are Gamma(p, nu) around their own mean spend,
and ``nu ~ Gamma(q, v)`` across customers. Only repeat buyers carry
information about spend, so the fit uses customers with ``frequency > 0``.
The model assumes spend is independent of purchase frequency; check that
(correlation close to 0) before trusting CLV built on it.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from ._inputs import ArrayLike, FloatArray, as_float, deduplicate
from .base import NumericModel
from .bgnbd import ConvergenceError


class GammaGammaModel(NumericModel):
    """Gamma-Gamma model of the mean transaction value, with JSON storage."""

    fitted_attributes: ClassVar[tuple[str, ...]] = ("p_", "q_", "v_", "log_likelihood_")

    def __init__(self, tol: float = 1e-7, max_iter: int = 500) -> None:
        self.tol = tol
        self.max_iter = max_iter

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> GammaGammaModel:
        """Estimate ``p, q, v`` by maximum likelihood on repeat buyers and return ``self``.

        Rows with ``frequency == 0`` or ``monetary_value <= 0`` are ignored
        (their mean repeat spend is undefined).
        """
        x, m = as_float(frequency), as_float(monetary_value)
        if x.shape != m.shape:
            raise ValueError("frequency and monetary_value must have the same length")
        w_all = np.ones_like(x) if weights is None else as_float(weights)
        keep = (x > 0) & (m > 0) & np.isfinite(m)
        if not keep.any():
            raise ValueError("Gamma-Gamma needs at least one customer with repeat purchases")
        x, m, w = deduplicate(x[keep], m[keep], weights=w_all[keep])
        # Spend is rescaled so that v starts near its optimum whatever the currency.
        scale = 1.0 / float(np.average(m, weights=w))
        result = minimize(
            _negative_log_likelihood,
            x0=np.zeros(3),
            args=(x, m * scale, w / w.sum()),
            jac=True,
            method="BFGS",
            options={"gtol": self.tol, "maxiter": self.max_iter},
        )
        if not np.all(np.isfinite(result.x)):
            raise ConvergenceError(f"Gamma-Gamma fit did not converge: {result.message}")
        p, q, v = np.exp(result.x)
        self.p_, self.q_, self.v_ = float(p), float(q), float(v / scale)
        self.log_likelihood_ = float(
            -_negative_log_likelihood(np.log([self.p_, self.q_, self.v_]), x, m, w)[0]
        )
        return self

    def conditional_expected_average_profit(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> FloatArray:
        """Return E[mean spend | x, m]: a credibility-weighted mix of population and own mean.

        One-off buyers (``frequency == 0``) get the population mean ``v p / (q - 1)``.
        """
        self._check_fitted()
        x, m = as_float(frequency), as_float(monetary_value)
        p, q, v = self.p_, self.q_, self.v_
        population_mean = v * p / (q - 1.0)
        weight_own = p * x / (p * x + q - 1.0)
        return (1.0 - weight_own) * population_mean + weight_own * m


def _negative_log_likelihood(
    log_params: FloatArray, x: FloatArray, m: FloatArray, w: FloatArray
) -> tuple[float, FloatArray]:
    """Weighted negative log-likelihood of the mean spends and its gradient in log-parameters.

    gammaln/digamma terms depend on the frequency only, so they are evaluated
    once per distinct frequency (few values) rather than once per customer.
    """
    p, q, v = np.exp(log_params)
    ux, inv = np.unique(x, return_inverse=True)
    uw = np.bincount(inv, weights=w, minlength=len(ux))
    upx = p * ux
    u_gamma = gammaln(upx + q) - gammaln(upx) - gammaln(q)
    u_psi_pxq = digamma(upx + q)
    px = p * x
    log_xm_v = np.log(x * m + v)
    log_m, log_x = np.log(m), np.log(x)
    ll = uw @ u_gamma + w @ (q * np.log(v) + (px - 1.0) * log_m + px * log_x - (px + q) * log_xm_v)
    d_p = uw @ (ux * (u_psi_pxq - digamma(upx))) + w @ (x * (log_m + log_x - log_xm_v))
    d_q = uw @ (u_psi_pxq - digamma(q)) + w @ (np.log(v) - log_xm_v)
    d_v = w.sum() * q / v - w @ ((px + q) / (x * m + v))
    grad = np.array([d_p * p, d_q * q, d_v * v])
    return -float(ll), -grad
