from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from stammkunde.core.errors import ApplicationError
from stammkunde.core.roles import roles_of

from . import selectors, services
from .forms import ArticleForm
from .models import Article


def _require_role(request: HttpRequest) -> None:
    if not roles_of(request.user):
        raise PermissionDenied


@login_required
def article_list_view(request: HttpRequest) -> HttpResponse:
    """Search the knowledge base; htmx requests get the result list only."""
    _require_role(request)
    q = request.GET.get("q", "")
    articles = selectors.article_search(
        user=request.user, q=q, visibility=request.GET.get("visibility", "")
    )
    usage = selectors.article_usage_counts(article_ids=[a.pk for a in articles])
    for article in articles:
        article.usage = usage.get(article.pk, 0)  # type: ignore[attr-defined]
    context = {
        "articles": articles,
        "q": q,
        "insert": request.GET.get("insert") == "1",
        "can_add": request.user.has_perm("knowledge.add_article"),
    }
    if getattr(request, "htmx", False):
        return render(request, "knowledge/_results.html", context)
    return render(request, "knowledge/list.html", context)


@login_required
def article_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    article = selectors.article_get(user=request.user, pk=pk)
    return render(
        request,
        "knowledge/detail.html",
        {
            "article": article,
            "versions": article.versions.select_related("edited_by")[:20],
            "usage": selectors.article_usage_counts(article_ids=[article.pk]).get(article.pk, 0),
            "can_edit": request.user.has_perm("knowledge.change_article"),
        },
    )


def _apply(form: ArticleForm, exc: ApplicationError) -> None:
    for field, errors in (exc.field_errors or {"__all__": [exc.message]}).items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
def article_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    article = selectors.article_get(user=request.user, pk=pk) if pk else None
    perm = "knowledge.change_article" if article else "knowledge.add_article"
    if not request.user.has_perm(perm):
        raise PermissionDenied
    initial = (
        {
            "title": article.title,
            "body": article.body,
            "version": article.version,
            "category": article.category.name if article.category else "",
            "visibility": article.visibility,
        }
        if article
        else {"visibility": Article.Visibility.INTERNAL}
    )
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if article:
                article = services.article_update(
                    actor=request.user,
                    article=article,
                    title=data["title"],
                    body=data["body"],
                    category=data["category"],
                    visibility=data["visibility"],
                    expected_version=data.get("version"),
                )
            else:
                article = services.article_create(
                    actor=request.user,
                    title=data["title"],
                    body=data["body"],
                    category=data["category"],
                    visibility=data["visibility"],
                )
        except ApplicationError as exc:
            _apply(form, exc)
        else:
            messages.success(request, _("Article saved."))
            return redirect(article)
    return render(request, "knowledge/form.html", {"form": form, "article": article})
