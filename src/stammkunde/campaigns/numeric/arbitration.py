"""Next-best-action arbitration for N customers × K campaigns, vectorised with numpy.

For every customer and campaign: ``score = expected uplift × value − cost``;
actions the customer may not receive (no consent for the channel, contact cap
reached, quiet period, suppression such as an open complaint, not in the
audience) are masked out; the best remaining action per customer wins if its
score is above ``min_score``, otherwise the customer gets no action (−1).

Customers are processed in row blocks of ``chunk_size`` so that the working
memory stays bounded (float32 blocks) however many customers there are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NO_ACTION = -1


@dataclass(frozen=True)
class Arbitration:
    """The winner per customer (``NO_ACTION`` when none) and its score (NaN when none)."""

    action: np.ndarray  # int32, shape (N,)
    score: np.ndarray  # float32, shape (N,)
    n_eligible: np.ndarray  # int16, shape (N,): eligible actions per customer

    def counts(self, n_actions: int) -> np.ndarray:
        """Return how many customers each action won (length ``n_actions``)."""
        won = self.action[self.action >= 0]
        return np.bincount(won, minlength=n_actions)


def eligibility_mask(
    *,
    in_audience: np.ndarray,
    channel_consent: np.ndarray,
    campaign_channel: np.ndarray,
    contacts_in_window: np.ndarray,
    contact_cap: int,
    quiet: np.ndarray,
    suppressed: np.ndarray,
    advertising: np.ndarray,
) -> np.ndarray:
    """Return the (N, K) boolean mask of allowed actions.

    ``in_audience`` (N, K); ``channel_consent`` (N, C) per channel index;
    ``campaign_channel`` (K,) channel index of each campaign; per customer
    ``contacts_in_window`` (N,), ``quiet`` (N,) and ``suppressed`` (N,);
    ``advertising`` (K,) — suppression (open complaint) blocks advertising
    only, not e.g. a service call.
    """
    mask = np.asarray(in_audience, dtype=bool).copy()
    mask &= np.asarray(channel_consent, dtype=bool)[:, np.asarray(campaign_channel)]
    blocked = (np.asarray(contacts_in_window) >= contact_cap) | np.asarray(quiet, dtype=bool)
    mask &= ~blocked[:, None]
    mask &= ~(np.asarray(suppressed, dtype=bool)[:, None] & np.asarray(advertising, bool)[None, :])
    return mask


def arbitrate(
    uplift: np.ndarray,
    value: np.ndarray,
    cost: np.ndarray,
    eligible: np.ndarray,
    *,
    min_score: float = 0.0,
    chunk_size: int = 200_000,
) -> Arbitration:
    """Return the best eligible action per customer by expected uplift × value − cost.

    ``uplift`` and ``eligible`` are (N, K); ``value`` is (N,) (the customer's
    value, e.g. 12-month CLV margin) or (N, K); ``cost`` is (K,). Ties go to
    the lower campaign index (argmax), which callers order by priority.
    """
    uplift = np.asarray(uplift)
    eligible = np.asarray(eligible, dtype=bool)
    n, k = uplift.shape
    if eligible.shape != (n, k):
        raise ValueError("eligible must have the shape of uplift")
    value = np.asarray(value, dtype=np.float32)
    cost32 = np.asarray(cost, dtype=np.float32).reshape(1, k)
    action = np.full(n, NO_ACTION, dtype=np.int32)
    best = np.full(n, np.nan, dtype=np.float32)
    n_eligible = np.zeros(n, dtype=np.int16)
    for lo in range(0, n, chunk_size):
        hi = min(lo + chunk_size, n)
        v = value[lo:hi, None] if value.ndim == 1 else value[lo:hi]
        score = uplift[lo:hi].astype(np.float32, copy=True)
        score *= v
        score -= cost32
        ok = eligible[lo:hi]
        score[~ok] = -np.inf
        winner = score.argmax(axis=1)
        top = score[np.arange(hi - lo), winner]
        wins = top > min_score
        action[lo:hi] = np.where(wins, winner, NO_ACTION)
        best[lo:hi] = np.where(wins, top, np.nan)
        n_eligible[lo:hi] = ok.sum(axis=1)
    return Arbitration(action=action, score=best, n_eligible=n_eligible)
