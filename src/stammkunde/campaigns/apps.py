from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "stammkunde.campaigns"
    label = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from stammkunde.core.navigation import (
            CustomerPanel,
            NavItem,
            StartTile,
            register_customer_panel,
            register_nav,
            register_start_tile,
        )
        from stammkunde.core.roles import AGENT, MARKETING, has_role, is_internal

        from . import selectors, start, views
        from .timeline import timeline_texts_register

        timeline_texts_register()

        register_customer_panel(
            CustomerPanel(
                key="next_best_action",
                title=_("Next best activity"),
                template="campaigns/_customer_panel.html",
                context=selectors.customer_next_best_context,
                allowed=is_internal,
                order=5,
            )
        )
        register_nav(
            NavItem(
                label=_("Campaigns"),
                url_name="campaigns:list",
                allowed=views.may_see_campaigns,
                order=70,
            )
        )
        for tile in (
            StartTile(
                "campaigns",
                _("Running campaigns"),
                "campaigns/_start_running.html",
                start.running_campaigns_context,
                lambda u: has_role(u, MARKETING),
                40,
            ),
            StartTile(
                "segments",
                _("Segments"),
                "campaigns/_start_segments.html",
                start.segments_context,
                lambda u: has_role(u, MARKETING),
                41,
            ),
            StartTile(
                "call_tasks",
                _("Call-backs"),
                "campaigns/_start_call_tasks.html",
                start.call_tasks_context,
                lambda u: has_role(u, AGENT),
                12,
            ),
        ):
            register_start_tile(tile)
