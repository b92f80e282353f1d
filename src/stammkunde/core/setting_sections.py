"""Sections of the settings page (``/settings/``) that apps register (no upward imports).

The settings app is at the top of the layers, so a lower app (channels with its
mail accounts, loyalty with its programme rules) cannot import it. Instead it
registers a section here in its ``AppConfig.ready()``; the settings index shows
every section the user may use, in ``order``. See docs/settings.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.urls import reverse

User = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class SettingsSection:
    """One tile on the settings index: a title, a line of help and the page it opens.

    ``allowed(user)`` decides who sees the tile; the page behind ``url_name`` must
    check the same itself (the tile is a signpost, not the lock).
    """

    key: str
    title: Any
    description: Any
    url_name: str
    allowed: Callable[[User], bool]
    order: int = 100


_SECTIONS: list[SettingsSection] = []


def register_settings_section(section: SettingsSection) -> None:
    """Add a section to the settings index (once per key; a second call is ignored)."""
    if all(s.key != section.key for s in _SECTIONS):
        _SECTIONS.append(section)


def settings_sections_for(user: User) -> list[dict[str, Any]]:
    """Return the sections ``user`` may open, in order, with their URL."""
    return [
        {
            "key": s.key,
            "title": str(s.title),
            "description": str(s.description),
            "url": reverse(s.url_name),
        }
        for s in sorted(_SECTIONS, key=lambda s: (s.order, s.key))
        if s.allowed(user)
    ]
