"""Writes to the knowledge base: every edit keeps the previous text as a version."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from stammkunde.core.access import User, acting_user
from stammkunde.core.errors import ApplicationError, ConflictError, validated

from .models import Article, ArticleCategory, ArticleVersion


def _category(name: str) -> ArticleCategory | None:
    name = name.strip()
    if not name:
        return None
    category, _ = ArticleCategory.objects.get_or_create(name=name)
    return category


@transaction.atomic
def article_create(
    *,
    actor: User | None,
    title: str,
    body: str,
    category: str = "",
    visibility: str = Article.Visibility.INTERNAL,
) -> Article:
    """Create an article and its first version."""
    now = timezone.now()
    article = Article(
        title=title.strip(),
        body=body.strip(),
        category=_category(category),
        visibility=visibility,
        created_at=now,
        updated_at=now,
    )
    validated(article)
    article.save()
    _version_keep(article, actor)
    return article


@transaction.atomic
def article_update(
    *,
    actor: User | None,
    article: Article,
    title: str,
    body: str,
    category: str | None = None,
    visibility: str | None = None,
    expected_version: int | None = None,
) -> Article:
    """Change an article; the new text becomes a new version, the old ones stay."""
    locked = Article.objects.select_for_update().get(pk=article.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            "Someone else changed this article meanwhile; reload and retry.", code="stale"
        )
    if not title.strip() or not body.strip():
        raise ApplicationError(
            "Title and text are required.",
            field_errors={"title": ["Required."]} if not title.strip() else {"body": ["Required."]},
        )
    locked.title, locked.body = title.strip(), body.strip()
    if category is not None:
        locked.category = _category(category)
    if visibility is not None:
        locked.visibility = visibility
    validated(locked)
    locked.version += 1
    locked.updated_at = timezone.now()
    locked.save()
    _version_keep(locked, actor)
    return locked


def _version_keep(article: Article, actor: User | None) -> None:
    ArticleVersion.objects.create(
        article=article,
        version=article.version,
        title=article.title,
        body=article.body,
        edited_by=acting_user(actor),
        created_at=article.updated_at,
    )
