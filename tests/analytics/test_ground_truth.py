"""Churn risk and phases against the demo shop's stored truth (who really dropped out).

The demo generator draws each customer's buying process (BG/NBD story) and
stores the true dropout date in ``CustomerTruth``. Scoring never reads it. We
score as of the end of the data and compare, on the customers held out of
churn training (every fifth by id), the churn risk with the truth
"dropped_out_at is set". Figures measured on this machine (seed 1, 3,000
customers, 526 held-out buyers) are in docs/analytics.md; the assertions
leave a margin for library version noise, not for a different seed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from stammkunde.analytics.orm import CustomerScore
from stammkunde.analytics.scoring import is_holdout
from stammkunde.analytics.services import scoring_run
from stammkunde.demo.generator import demo_generate
from stammkunde.demo.models import CustomerTruth

pytestmark = pytest.mark.django_db
END = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)
SEED = 1


@pytest.fixture
def judged() -> pd.DataFrame:
    demo_generate(customers=3000, seed=SEED, end=END)
    scoring_run(as_of=date(2026, 6, 30), chunk_size=1000)
    scores = pd.DataFrame.from_records(
        CustomerScore.objects.filter(is_latest=True).values("customer_id", "churn_risk", "phase")
    )
    truth = pd.DataFrame.from_records(CustomerTruth.objects.values("customer_id", "dropped_out_at"))
    frame = scores.merge(truth, on="customer_id")
    frame["churned"] = frame["dropped_out_at"].notna().astype(int)
    return frame.loc[is_holdout(frame["customer_id"].to_numpy())]


def test_churn_risk_ranks_true_dropouts_first_on_held_out_customers(
    judged: pd.DataFrame,
) -> None:
    # given
    y, risk = judged["churned"].to_numpy(), judged["churn_risk"].to_numpy()
    top = np.argsort(-risk, kind="stable")[: len(risk) // 10]
    # when
    auc = roc_auc_score(y, risk)
    brier = brier_score_loss(y, risk)
    lift = y[top].mean() / y.mean()
    print(
        f"\nheld-out buyers {len(y)}, truly churned {y.mean():.3f}: "
        f"AUC {auc:.3f}, Brier {brier:.3f}, top-decile lift {lift:.2f}"
    )
    # then
    assert len(y) > 400
    assert auc >= 0.80
    assert brier <= 0.23
    assert lift >= 1.6  # the ceiling is 1 / base rate, about 1.9 here


def test_phases_follow_the_true_state(judged: pd.DataFrame) -> None:
    # when
    table = pd.crosstab(
        judged["phase"], judged["churned"].map({0: "active", 1: "churned"}), margins=True
    )
    print("\nphase vs true state (held-out buyers)\n", table.to_string())
    share = judged.groupby("phase")["churned"].mean()
    # then: the further along the phase, the more of them are truly gone
    assert share["lost"] > 0.9
    assert share["churning"] > share["churn_prone"] > share["established"]
    assert share["established"] < 0.35
