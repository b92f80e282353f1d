"""The feedback report's theme cache: theme texts quote answers and ticket messages.

A key is ``feedback-themes-<generation>-<source>-<days>``. Clearing deletes
every key the report can write (each source, each period from
``THEMES_DAYS_MIN`` to ``THEMES_DAYS_MAX``; the backends cannot delete by
pattern) and then draws a new generation, so that a report computed from the
old texts while the erasure committed writes to a key nobody reads again. A
generation the cache dropped is drawn anew: a miss, never an old entry.
"""

from __future__ import annotations

from uuid import uuid4

from django.core.cache import cache

THEMES_CACHE_SECONDS = 600
THEMES_SOURCES = ("answers", "tickets")
THEMES_DAYS_MIN, THEMES_DAYS_MAX = 7, 3650  # the report's range of periods
_GENERATION_KEY = "feedback-themes-generation"


def _generation() -> str:
    return str(cache.get_or_set(_GENERATION_KEY, uuid4().hex, timeout=None))


def _key(generation: str, source: str, days: int) -> str:
    return f"feedback-themes-{generation}-{source}-{days}"


def themes_cache_key(*, source: str, days: int) -> str:
    """The cache key of the report's themes of ``source`` over the last ``days``."""
    if source not in THEMES_SOURCES or not THEMES_DAYS_MIN <= days <= THEMES_DAYS_MAX:
        raise ValueError(f"no theme cache for {source!r} over {days} days")
    return _key(_generation(), source, days)


def themes_cache_clear() -> None:
    """Delete every cached theme (after an erasure or the expiry of texts).

    With the in-process cache (no ``REDIS_URL``) this reaches only the calling
    process; other processes' entries age out after ``THEMES_CACHE_SECONDS``.
    """
    generation = cache.get(_GENERATION_KEY)
    if generation is not None:
        cache.delete_many(
            [
                _key(str(generation), source, days)
                for source in THEMES_SOURCES
                for days in range(THEMES_DAYS_MIN, THEMES_DAYS_MAX + 1)
            ]
        )
    cache.set(_GENERATION_KEY, uuid4().hex, timeout=None)
