"""Knowledge articles: versions, visibility, search on SQLite and PostgreSQL, pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from stammkunde.core.errors import ConflictError
from stammkunde.knowledge import selectors, services
from stammkunde.knowledge.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(agent):
    return [
        services.article_create(
            actor=agent,
            title="Kette wechseln",
            body="Die Kette verschleißt nach etwa 3000 km.",
            category="Werkstatt",
        ),
        services.article_create(
            actor=agent,
            title="Rücksendung anmelden",
            body="Das Retourenlabel kommt per E-Mail.",
            category="Shop",
            visibility="public",
        ),
    ]


def test_every_edit_keeps_the_previous_text_as_a_version(agent, articles) -> None:
    article = articles[0]
    services.article_update(
        actor=agent, article=article, title="Kette tauschen", body="Neu", expected_version=1
    )
    assert list(article.versions.values_list("version", "title")) == [
        (2, "Kette tauschen"),
        (1, "Kette wechseln"),
    ]


def test_a_stale_article_edit_is_refused(agent, articles) -> None:
    services.article_update(
        actor=agent, article=articles[0], title="a", body="b", expected_version=1
    )
    with pytest.raises(ConflictError):
        services.article_update(
            actor=agent, article=articles[0], title="c", body="d", expected_version=1
        )


def test_search_finds_words_in_title_and_text(agent, articles) -> None:
    assert [a.title for a in selectors.article_search(user=agent, q="kette")] == ["Kette wechseln"]
    assert [a.title for a in selectors.article_search(user=agent, q="Retourenlabel")] == [
        "Rücksendung anmelden"
    ]
    assert selectors.article_search(user=agent, q="Sattel") == []


def test_staff_and_partner_agents_read_articles_and_users_without_role_none(
    make_user, partner_agent, articles
) -> None:
    assert len(selectors.article_search(user=make_user("marketing"))) == 2
    assert len(selectors.article_search(user=partner_agent)) == 2
    assert selectors.article_search(user=make_user()) == []


def test_the_knowledge_page_lists_and_searches_with_htmx(client, agent, articles) -> None:
    client.force_login(agent)
    page = client.get(reverse("knowledge:list"))
    assert page.status_code == 200 and "Kette wechseln" in page.content.decode()
    partial = client.get(
        reverse("knowledge:list"), {"q": "Kette", "insert": "1"}, HTTP_HX_REQUEST="true"
    )
    body = partial.content.decode()
    assert "insert-article" in body and "Rücksendung" not in body


def test_an_agent_creates_and_edits_an_article_in_the_ui(client, agent) -> None:
    client.force_login(agent)
    response = client.post(
        reverse("knowledge:create"),
        {
            "title": "Bremsen entlüften",
            "body": "Schritt 1",
            "category": "Werkstatt",
            "visibility": "internal",
        },
    )
    article = Article.objects.get(title="Bremsen entlüften")
    assert response.status_code == 302
    client.post(
        reverse("knowledge:edit", args=[article.pk]),
        {
            "title": "Bremsen entlüften",
            "body": "Schritt 1 und 2",
            "category": "Werkstatt",
            "visibility": "internal",
            "version": 1,
        },
    )
    article.refresh_from_db()
    assert article.version == 2


def test_a_user_without_role_gets_no_article(client, make_user, articles) -> None:
    client.force_login(make_user())
    assert client.get(reverse("knowledge:detail", args=[articles[0].pk])).status_code == 404
    assert client.get(reverse("knowledge:list")).status_code == 403
