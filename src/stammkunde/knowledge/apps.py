from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _can_read(user: Any) -> bool:
    return bool(user.has_perm("knowledge.view_article"))


class KnowledgeConfig(AppConfig):
    name = "stammkunde.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from stammkunde.core.navigation import NavItem, register_nav

        register_nav(
            NavItem(
                label=_("Knowledge"),
                url_name="knowledge:list",
                allowed=_can_read,
                order=40,
            )
        )
