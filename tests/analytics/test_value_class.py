"""ABC classes split customers by CLV rank or by value share."""

from __future__ import annotations

import numpy as np
import pytest

from stammkunde.analytics.models.value_class import value_classes


def test_default_classes_are_top_twenty_then_thirty_percent_of_customers(rng):
    # given
    clv = rng.gamma(1.0, 100.0, size=1000)
    # when
    classes = value_classes(clv)
    # then
    assert (classes == "A").sum() == 200
    assert (classes == "B").sum() == 300
    assert clv[classes == "A"].min() >= clv[classes == "B"].max()
    assert clv[classes == "B"].min() >= clv[classes == "C"].max()


def test_value_mode_puts_the_customers_holding_eighty_percent_of_value_in_a():
    # given one whale holding 90% of the value
    clv = np.array([10.0, 900.0, 40.0, 30.0, 20.0])
    # when
    classes = value_classes(clv, shares=(0.8, 0.15), by="value")
    # then
    assert list(classes) == ["C", "A", "B", "B", "C"]


def test_shares_above_one_are_rejected():
    with pytest.raises(ValueError, match="shares"):
        value_classes([1.0, 2.0], shares=(0.8, 0.5))
