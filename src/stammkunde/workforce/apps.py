from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkforceConfig(AppConfig):
    name = "stammkunde.workforce"
    label = "workforce"
    verbose_name = _("Service operations")

    def ready(self) -> None:
        from stammkunde.core.navigation import NavItem, register_nav
        from stammkunde.core.roles import partner_id_of

        from .models import is_planner

        register_nav(NavItem(_("Planning"), "workforce:index", is_planner, 60))
        # A partner's agents see their own scorecard and nothing else of planning.
        register_nav(
            NavItem(
                _("Scorecard"),
                "workforce:scorecards",
                lambda u: not is_planner(u) and partner_id_of(u) is not None,
                61,
            )
        )
