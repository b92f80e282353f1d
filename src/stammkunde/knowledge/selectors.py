"""Reads of the knowledge base; full-text search on PostgreSQL, a fallback elsewhere."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet

from stammkunde.core.access import User, access_object

from .models import Article


def article_search(
    *, user: User, q: str = "", visibility: str = "", category: str = "", limit: int = 20
) -> list[Article]:
    """Return visible, active articles matching ``q``, best first.

    PostgreSQL ranks with ``SearchVector``/``SearchQuery`` (German stemming, title
    weighted above text); SQLite falls back to every word in title or text.
    """
    qs: QuerySet[Article] = (
        Article.objects.visible_to(user).filter(active=True).select_related("category")
    )
    if visibility:
        qs = qs.filter(visibility=visibility)
    if category:
        qs = qs.filter(category__name=category)
    words = q.split()
    if not words:
        return list(qs.order_by("title")[:limit])
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = SearchVector("title", weight="A", config="german") + SearchVector(
            "body", weight="B", config="german"
        )
        query = SearchQuery(" ".join(words), search_type="plain", config="german")
        qs = (
            qs.annotate(rank=SearchRank(vector, query))
            .filter(rank__gt=0)
            .order_by("-rank", "title")
        )
        return list(qs[:limit])
    for word in words:
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word))
    return list(qs.order_by("title")[:limit])


def article_get(*, user: User, pk: Any) -> Article:
    """Return a visible article or raise 404."""
    return access_object(Article.objects.select_related("category"), user, pk=pk)


SOLVED_STATUSES = ("solved", "closed")


def article_usage_counts(*, article_ids: list[int]) -> dict[int, int]:
    """Return, per article, in how many solved or closed tickets it was inserted into a reply."""
    rows = (
        Article.objects.filter(pk__in=article_ids)
        .annotate(
            n=Count(
                "ticket_uses__ticket",
                distinct=True,
                filter=Q(ticket_uses__ticket__status__in=SOLVED_STATUSES),
            )
        )
        .filter(n__gt=0)
        .values_list("pk", "n")
    )
    return dict(rows)


def article_ids_visible(*, user: User, ids: Iterable[int]) -> list[int]:
    """Return those of ``ids`` that are articles ``user`` may read (a ticket records only these)."""
    return list(
        Article.objects.visible_to(user).filter(pk__in=list(ids)).values_list("pk", flat=True)
    )


def article_title_exists(*, title: str) -> bool:
    """Whether an article with this title exists (the demo creates each article once)."""
    return Article.objects.filter(title=title).exists()
