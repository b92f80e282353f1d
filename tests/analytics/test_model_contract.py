"""Every numeric model follows the scikit-learn contract (anchors rule 13).

``__init__`` only stores parameters, ``fit`` returns ``self``, learned
attributes end in ``_`` and are absent before ``fit``, and a fitted model
survives a JSON round trip with identical predictions.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import stammkunde.analytics.models as models_package
from stammkunde.analytics.models.base import NotFittedError, NumericModel
from stammkunde.analytics.models.bgnbd import BetaGeoModel
from stammkunde.analytics.models.churn import ChurnModel
from stammkunde.analytics.models.gamma_gamma import GammaGammaModel

FitData = tuple[tuple[Any, ...], Callable[[NumericModel], np.ndarray]]


def _bgnbd_case(rng: np.random.Generator) -> FitData:
    T = rng.uniform(20, 60, 300)
    recency = T * rng.uniform(0, 1, 300)
    frequency = np.where(recency > 0, rng.poisson(3, 300), 0).astype(float)
    recency = np.where(frequency > 0, recency, 0.0)
    return (frequency, recency, T), lambda m: m.expected_purchases(10, frequency, recency, T)


def _gamma_gamma_case(rng: np.random.Generator) -> FitData:
    frequency = rng.poisson(3, 300).astype(float) + 1
    spend = rng.gamma(5.0, 10.0, 300)
    return (frequency, spend), lambda m: m.conditional_expected_average_profit(frequency, spend)


def _churn_case(rng: np.random.Generator) -> FitData:
    X = pd.DataFrame(
        {"complaints_90d": rng.poisson(1, 400), "recency_days": rng.exponential(50, 400)}
    )
    y = (rng.random(400) < 0.2 + 0.15 * X["complaints_90d"].clip(0, 4)).astype(int)
    return (X, y), lambda m: m.predict_proba(X)


CASES: dict[type[NumericModel], Callable[[np.random.Generator], FitData]] = {
    BetaGeoModel: _bgnbd_case,
    GammaGammaModel: _gamma_gamma_case,
    ChurnModel: _churn_case,
}


def _all_model_classes() -> set[type[NumericModel]]:
    for module in pkgutil.iter_modules(models_package.__path__):
        importlib.import_module(f"{models_package.__name__}.{module.name}")
    # Other apps may build on NumericModel (campaigns' uplift model); they test their own.
    return {
        cls
        for cls in NumericModel.__subclasses__()
        if cls.__module__.startswith(f"{models_package.__name__}.")
    }


def test_every_model_class_is_covered_by_the_contract_suite():
    assert _all_model_classes() == set(CASES)


@pytest.mark.parametrize("model_class", list(CASES), ids=lambda c: c.__name__)
def test_init_only_stores_its_keyword_arguments(model_class: type[NumericModel]):
    # given
    params = model_class().get_params()
    # when
    model = model_class(**params)
    # then
    assert vars(model) == params
    signature = inspect.signature(model_class.__init__)
    assert all(p.kind is not p.VAR_POSITIONAL for p in signature.parameters.values())


@pytest.mark.parametrize("model_class", list(CASES), ids=lambda c: c.__name__)
def test_fit_returns_self_and_sets_only_underscore_attributes(model_class, rng):
    # given
    args, _ = CASES[model_class](rng)
    model = model_class()
    assert not any(hasattr(model, name) for name in model_class.fitted_attributes)
    # when
    result = model.fit(*args)
    # then
    assert result is model
    assert all(
        name.endswith("_") and hasattr(model, name) for name in model_class.fitted_attributes
    )
    assert set(vars(model)) == set(model.get_params()) | set(model_class.fitted_attributes)


@pytest.mark.parametrize("model_class", list(CASES), ids=lambda c: c.__name__)
def test_unfitted_model_refuses_to_predict_or_export(model_class, rng):
    _, predict = CASES[model_class](rng)
    with pytest.raises(NotFittedError):
        predict(model_class())
    with pytest.raises(NotFittedError):
        model_class().params_dict()


@pytest.mark.parametrize("model_class", list(CASES), ids=lambda c: c.__name__)
def test_fitted_parameters_round_trip_through_json(model_class, rng):
    # given
    args, predict = CASES[model_class](rng)
    model = model_class().fit(*args)
    # when
    restored = model_class.from_params(json.loads(json.dumps(model.params_dict())))
    # then
    np.testing.assert_array_equal(predict(restored), predict(model))
    assert restored.params_dict() == model.params_dict()


@pytest.mark.parametrize("model_class", list(CASES), ids=lambda c: c.__name__)
def test_refitting_forgets_the_previous_fit(model_class, rng):
    args, predict = CASES[model_class](rng)
    model = model_class().fit(*args)
    first = predict(model)
    other_args, _ = CASES[model_class](np.random.default_rng(rng.integers(1 << 30) + 1))
    model.fit(*other_args).fit(*args)
    np.testing.assert_allclose(predict(model), first, rtol=1e-9)


def test_stored_parameters_of_another_version_are_refused(rng):
    args, _ = _gamma_gamma_case(rng)
    data = GammaGammaModel().fit(*args).params_dict() | {"version": 999}
    with pytest.raises(ValueError, match="version 999"):
        GammaGammaModel.from_params(data)
