"""Navigation, customer-page panels and start-page tiles that apps register (no upward imports).

An app adds itself in ``AppConfig.ready()``; the core renders what is there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.urls import reverse

User = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class NavItem:
    label: Any
    url_name: str
    allowed: Callable[[User], bool]
    order: int = 100


@dataclass(frozen=True)
class CustomerPanel:
    """A block on the customer 360 page: ``template`` rendered with ``context(customer, user)``."""

    key: str
    title: Any
    template: str
    context: Callable[[Any, User], dict[str, Any]]
    allowed: Callable[[User], bool]
    order: int = 100


@dataclass(frozen=True)
class CustomerListFilter:
    """A filter an upper app adds to the customer list: a GET parameter with choices.

    ``apply(queryset, value)`` narrows the customer queryset; it is only called
    with one of ``choices()``'s values, so customers never import the app.
    """

    param: str
    label: Any
    choices: Callable[[], list[tuple[str, Any]]]
    apply: Callable[[Any, str], Any]
    order: int = 100


@dataclass(frozen=True)
class StartTile:
    """A tile on the start page (``/``): ``template`` rendered with ``context(user)``.

    ``allowed(user)`` decides who sees it (usually by role); ``context`` runs
    only for those, so a tile costs queries only for the people it is for.
    """

    key: str
    title: Any
    template: str
    context: Callable[[User], dict[str, Any]]
    allowed: Callable[[User], bool]
    order: int = 100


_NAV: list[NavItem] = []
_PANELS: list[CustomerPanel] = []
_LIST_FILTERS: list[CustomerListFilter] = []
_START_TILES: list[StartTile] = []


def register_nav(item: NavItem) -> None:
    if all(i.url_name != item.url_name for i in _NAV):
        _NAV.append(item)


def register_customer_panel(panel: CustomerPanel) -> None:
    if all(p.key != panel.key for p in _PANELS):
        _PANELS.append(panel)


def register_customer_list_filter(item: CustomerListFilter) -> None:
    if all(f.param != item.param for f in _LIST_FILTERS):
        _LIST_FILTERS.append(item)


def register_start_tile(tile: StartTile) -> None:
    if all(t.key != tile.key for t in _START_TILES):
        _START_TILES.append(tile)


def customer_list_filters() -> list[CustomerListFilter]:
    """Return the filters other apps added to the customer list, in order."""
    return sorted(_LIST_FILTERS, key=lambda f: f.order)


def navigation_for(user: User) -> list[dict[str, str]]:
    """Return the navigation entries the user may use, in order."""
    return [
        {
            # A label may depend on the user (a count of work waiting): then it is callable.
            "label": str(i.label(user) if callable(i.label) else i.label),
            "url": reverse(i.url_name),
            "url_name": i.url_name,
        }
        for i in sorted(_NAV, key=lambda i: i.order)
        if i.allowed(user)
    ]


def customer_panels_for(
    customer: Any, user: User, *, keys: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """Return the rendered-context panels for a customer page (only ``keys`` if given)."""
    return [
        {"key": p.key, "title": p.title, "template": p.template, **p.context(customer, user)}
        for p in sorted(_PANELS, key=lambda p: p.order)
        if (keys is None or p.key in keys) and p.allowed(user)
    ]


def start_tiles_for(user: User) -> list[dict[str, Any]]:
    """Return the start-page tiles the user may see, each with its rendered context.

    A user with several roles gets the tiles of each role, every tile once.
    """
    return [
        {"key": t.key, "title": t.title, "template": t.template, **t.context(user)}
        for t in sorted(_START_TILES, key=lambda t: (t.order, t.key))
        if t.allowed(user)
    ]
