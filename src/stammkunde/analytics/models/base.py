"""Shared scikit-learn style contract for the numeric models.

Why a mixin and not ``sklearn.base.BaseEstimator``: the statistical models must
be stored as JSON with a model version (never pickled), and ``BaseEstimator``
brings pickling-oriented state handling we do not want. The contract is the
same: ``__init__`` only stores keyword arguments, ``fit`` returns ``self`` and
learned attributes end in ``_`` and exist only after ``fit``.
"""

from __future__ import annotations

import inspect
import json
from typing import Any, ClassVar, Self

import numpy as np


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used before ``fit`` (or ``from_params``)."""


class NumericModel:
    """Mixin giving ``get_params``, ``params_dict`` and ``from_params``."""

    #: Names of the learned attributes (each ends in ``_``).
    fitted_attributes: ClassVar[tuple[str, ...]] = ()
    #: Bumped whenever the meaning of stored parameters changes.
    model_version: ClassVar[int] = 1

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [name for name in signature.parameters if name != "self"]

    def get_params(self) -> dict[str, Any]:
        """Return the constructor arguments, like scikit-learn's ``get_params``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def is_fitted(self) -> bool:
        """Return True when every learned attribute is present."""
        return all(hasattr(self, name) for name in self.fitted_attributes)

    def _check_fitted(self) -> None:
        if not self.is_fitted():
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet; call fit() or from_params() first."
            )

    def params_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable description of the model and its fit."""
        self._check_fitted()
        return {
            "model": type(self).__name__,
            "version": self.model_version,
            "params": self.get_params(),
            "fitted": {name: _to_json(getattr(self, name)) for name in self.fitted_attributes},
        }

    @classmethod
    def from_params(cls, data: dict[str, Any]) -> Self:
        """Rebuild a fitted model from :meth:`params_dict` output (after JSON round trip)."""
        if data.get("model") != cls.__name__:
            raise ValueError(f"stored model is {data.get('model')!r}, not {cls.__name__}")
        if data.get("version") != cls.model_version:
            raise ValueError(
                f"stored {cls.__name__} has version {data.get('version')}, "
                f"this code reads version {cls.model_version}"
            )
        model = cls(**data.get("params", {}))
        fitted = data["fitted"]
        for name in cls.fitted_attributes:
            setattr(model, name, _from_json(fitted[name]))
        return model

    def to_json(self) -> str:
        """Return :meth:`params_dict` as a JSON string."""
        return json.dumps(self.params_dict())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _to_json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=value["dtype"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value
