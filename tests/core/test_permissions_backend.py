"""RoleModelBackend answers every permission question as Django's ModelBackend does."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from stammkunde.core.backends import RoleModelBackend
from stammkunde.core.roles import roles_of

pytestmark = pytest.mark.django_db

ROLE_SETS = [(), ("agent",), ("analyst", "marketing"), ("partner_agent",), ("team_lead",)]


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


@pytest.mark.parametrize("roles", ROLE_SETS)
def test_every_permission_gets_the_same_answer(make_user, partner, roles) -> None:
    # given a user with roles and one permission of their own
    extra = {"partner": partner} if "partner_agent" in roles else {}
    user = make_user(*roles, **extra)
    user.user_permissions.add(Permission.objects.get(codename="delete_customer"))
    expected = ModelBackend().get_all_permissions(_fresh(user))
    all_perms = [
        f"{app}.{code}"
        for app, code in Permission.objects.values_list("content_type__app_label", "codename")
    ]
    backend = RoleModelBackend()

    # then: asked one at a time (the single-statement path) ...
    single = {p for p in all_perms if backend.has_perm(_fresh(user), p)}
    # ... and many on one user object (from the third question on, all are loaded)
    shared = _fresh(user)
    many = {p for p in all_perms if backend.has_perm(shared, p)}
    assert single == many == expected
    assert "customers.delete_customer" in single
    assert not backend.has_perm(_fresh(user), "no_dot_here")


def test_an_inactive_user_has_no_permission(make_user) -> None:
    user = make_user("team_lead")
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert not RoleModelBackend().has_perm(_fresh(user), "service.view_ticket")


def test_roles_are_the_users_groups(make_user) -> None:
    user = make_user("analyst", "marketing")
    assert roles_of(_fresh(user)) == {"analyst", "marketing"}
    assert roles_of(_fresh(make_user())) == frozenset()
