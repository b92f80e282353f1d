"""Knowledge articles for agents (internal) and customers (public), with versions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from stammkunde.core.access import User, VisibleQuerySet
from stammkunde.core.roles import is_internal, partner_id_of


class ArticleCategory(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")

    def __str__(self) -> str:
        return self.name


class ArticleQuerySet(VisibleQuerySet["Article"]):
    def visible_to(self, user: User) -> ArticleQuerySet:
        """Staff and partner agents read every article; users without a role none.

        Public articles reach customers through the (later) help centre, not here.
        """
        if is_internal(user) or partner_id_of(user) is not None:
            return self.all()
        return self.none()


class Article(models.Model):
    class Visibility(models.TextChoices):
        INTERNAL = "internal", _("internal")
        PUBLIC = "public", _("public")

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    category = models.ForeignKey(
        ArticleCategory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        verbose_name=_("category"),
    )
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("knowledge:detail", args=[self.pk])


class ArticleVersion(models.Model):
    """One kept state of an article; a new row for every edit."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["article", "version"], name="article_version_once"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.version}"
