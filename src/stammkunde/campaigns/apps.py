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
            register_customer_panel,
            register_nav,
        )
        from stammkunde.core.roles import is_internal

        from . import selectors, views

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
