"""The churn model finds a planted signal, is calibrated by scikit-learn and explains itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from stammkunde.analytics.models.churn import FEATURES, PHRASES, ChurnModel, purchase_features


def _synthetic_customers(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers whose churn is driven by complaints and recency drift, plus noise features."""
    X = pd.DataFrame(
        {
            "recency_days": rng.exponential(60, n),
            "frequency": rng.poisson(4, n).astype(float),
            "monetary_value": rng.gamma(2.0, 30.0, n),
            "T_days": rng.uniform(100, 900, n),
            "p_alive": rng.uniform(0.2, 1.0, n),
            "recency_drift": rng.exponential(1.0, n),
            "tickets_90d": rng.poisson(1.0, n).astype(float),
            "complaints_90d": rng.poisson(0.6, n).astype(float),
            "survey_score_last": np.where(rng.random(n) < 0.5, np.nan, rng.integers(1, 6, n)),
        },
        index=pd.Index([f"k{i}" for i in range(n)], name="customer"),
    )
    logit = -2.0 + 2.5 * X["complaints_90d"] + 1.2 * np.log1p(X["recency_drift"])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y.to_numpy()


@pytest.fixture
def trained(rng) -> tuple[ChurnModel, pd.DataFrame, np.ndarray]:
    X, y = _synthetic_customers(rng, 4000)
    model = ChurnModel().fit(X.iloc[:3000], y[:3000])
    return model, X.iloc[3000:], y[3000:]


def test_planted_signal_gives_auc_above_point_eight_on_held_out_customers(trained):
    # given
    model, X_test, y_test = trained
    # when
    risk = model.predict_proba(X_test)
    auc = roc_auc_score(y_test, risk)
    print(f"churn AUC {auc:.3f}, Brier {brier_score_loss(y_test, risk):.3f}")
    # then
    assert auc > 0.8


def test_probabilities_are_calibrated_on_average(trained):
    model, X_test, y_test = trained
    assert model.predict_proba(X_test).mean() == pytest.approx(y_test.mean(), abs=0.05)


def test_reasons_name_the_planted_feature_for_complaining_customers(trained):
    # given the held-out customers with the most complaints
    model, X_test, _ = trained
    complainers = X_test.loc[X_test["complaints_90d"] >= 3]
    # when
    reasons = model.reasons(complainers, top=3)
    # then
    first = reasons.loc[reasons["rank"] == 1]
    assert set(first["customer"]) == set(complainers.index)
    assert (first["feature"] == "complaints_90d").all()
    assert (first["text_de"] == PHRASES["complaints_90d"]["high"][0]).all()
    assert (first["text_en"] == "complaints in the last 90 days").all()
    assert (reasons["contribution"] > 0).all()
    assert reasons.groupby("customer").size().max() <= 3


def test_predictions_equal_scikit_learns_calibrated_classifier(rng):
    # given the same data and the same scikit-learn estimator the model wraps
    X, y = _synthetic_customers(rng, 1500)
    model = ChurnModel().fit(X, y)
    z = model._standardised(X)
    reference = CalibratedClassifierCV(
        LogisticRegression(C=1.0, max_iter=1000), method="sigmoid", cv=5, ensemble=False
    ).fit(z, y)
    # when / then
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(z)[:, 1], rtol=1e-9)


def test_missing_feature_columns_count_as_zero(trained):
    model, X_test, _ = trained
    assert model.predict_proba(X_test[["complaints_90d"]]).shape == (len(X_test),)


def test_every_feature_has_german_and_english_phrases_in_both_directions():
    for name in FEATURES:
        assert set(PHRASES[name]) == {"high", "low"}
        assert all(len(pair) == 2 and all(pair) for pair in PHRASES[name].values())


def test_recency_drift_measures_the_gap_in_units_of_the_customers_own_rhythm():
    # given a customer buying every 10 days whose last purchase was 30 days ago
    features = purchase_features([4.0], [40.0], [70.0], [20.0], [0.8])
    # then
    assert features.loc[0, "recency_drift"] == 3.0
    assert features.loc[0, "recency_days"] == 30.0


def test_an_unknown_input_is_never_a_reason_but_a_known_one_names_its_value(rng):
    # given a model where the survey score matters (low score = risk), and customers
    # without an answered survey whose imputed median would push their risk up
    n = 3000
    X = pd.DataFrame(
        {
            "recency_drift": rng.exponential(1.0, n),
            # skewed answers: the median (2) lies below the mean, on the risky side
            "survey_score_last": np.where(
                rng.random(n) < 0.3,
                np.nan,
                rng.choice([1, 2, 3, 4, 5], n, p=[0.35, 0.2, 0.1, 0.15, 0.2]),
            ),
        }
    )
    score = X["survey_score_last"].fillna(3.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-(2.0 - 1.0 * score)))).astype(int)
    model = ChurnModel().fit(X, y)
    contributions = model.contributions(X)
    unknown = X["survey_score_last"].isna()
    assert (contributions.loc[unknown, "survey_score_last"] > 0).any()  # the trap is real
    # when
    reasons = model.reasons(X, top=3)
    # then no reason stands on a value the customer never gave
    on_unknown = reasons["customer"].isin(X.index[unknown])
    assert not (on_unknown & (reasons["feature"] == "survey_score_last")).any()
    # and every reason carries the customer's own input
    for row in reasons.itertuples():
        assert row.value == X.loc[row.customer].reindex(FEATURES).fillna(0.0)[row.feature]
