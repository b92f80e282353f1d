"""Token authentication: the lean two-statement path answers as DRF's own would."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.loyalty.factories import account

pytestmark = pytest.mark.django_db


def _client(user: Any) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")


def _earn(client: APIClient, acc: Any, key: str = "k1") -> Any:
    return client.post(
        f"/api/loyalty/accounts/{acc.pk}/earn/",
        {"points": 10},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_cashier_token_books(agent) -> None:
    acc = account()
    response = _earn(_client(agent), acc)
    assert response.status_code == 201, response.content
    assert response.json()["balance"] == 10


def test_an_unknown_token_is_401() -> None:
    acc = account()
    response = _earn(APIClient(HTTP_AUTHORIZATION="Token " + "0" * 40), acc)
    assert response.status_code == 401
    assert acc.entries.count() == 0


def test_a_deactivated_users_token_is_401(agent) -> None:
    acc = account()
    client = _client(agent)
    get_user_model().objects.filter(pk=agent.pk).update(is_active=False)
    assert _earn(client, acc).status_code == 401
    assert acc.entries.count() == 0


def test_a_read_only_role_may_look_but_not_book(make_user) -> None:
    acc = account()
    client = _client(make_user("analyst"))
    assert client.get(f"/api/loyalty/accounts/{acc.pk}/").status_code == 200
    assert _earn(client, acc).status_code == 403
    assert acc.entries.count() == 0


def test_a_partner_agent_does_not_see_loyalty_accounts(partner_agent) -> None:
    acc = account()
    client = _client(partner_agent)
    assert _earn(client, acc).status_code in (403, 404)
    assert acc.entries.count() == 0


def test_the_token_statement_brings_the_roles_along(make_user, django_assert_num_queries) -> None:
    from stammkunde.core.authentication import TokenAuthentication
    from stammkunde.core.roles import roles_of

    for roles in [(), ("analyst", "marketing")]:
        user = make_user(*roles)
        key = Token.objects.create(user=user).key
        with django_assert_num_queries(1):
            found, _ = TokenAuthentication().authenticate_credentials(key)
            assert roles_of(found) == frozenset(roles)
