"""Reads of the demo shop's stored ground truth, for the demo generators of other apps."""

from __future__ import annotations

from .models import CustomerTruth


def demo_truth_fill(*, customer_ids: list[int], found: dict[int, tuple[float, bool]]) -> None:
    """Hook ``demo_truth``: per customer, the true dropout probability and if it dropped out."""
    rows = (
        CustomerTruth.objects.filter(customer_id__in=customer_ids)
        .values_list("customer_id", "dropout_probability", "dropped_out_at")
        .iterator(chunk_size=5000)
    )
    for customer_id, probability, dropped_out_at in rows:
        found[customer_id] = (probability, dropped_out_at is not None)
