"""Human-readable numbers from row-locked counters (safe under concurrency)."""

from __future__ import annotations

from django.db import transaction

from .models import Counter


def counter_next(name: str, *, count: int = 1) -> int:
    """Reserve ``count`` numbers of counter ``name`` and return the first.

    Runs in its own atomic block and locks the counter row, so two writers
    never get the same number.
    """
    with transaction.atomic():
        Counter.objects.get_or_create(name=name)
        counter = Counter.objects.select_for_update().get(name=name)
        first = counter.value + 1
        counter.value += count
        counter.save(update_fields=["value"])
    return first


def counter_raise_to(name: str, value: int) -> None:
    """Make sure the next number of ``name`` is above ``value`` (after bulk loads)."""
    with transaction.atomic():
        Counter.objects.get_or_create(name=name)
        Counter.objects.select_for_update().filter(name=name, value__lt=value).update(value=value)
