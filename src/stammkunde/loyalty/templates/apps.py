from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "stammkunde.loyalty"
    label = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self) -> None:
        from stammkunde.core.navigation import (
            CustomerPanel,
            NavItem,
            register_customer_panel,
            register_nav,
        )
        from stammkunde.core.roles import is_internal

        from .selectors import customer_loyalty_context

        register_customer_panel(
            CustomerPanel(
                key="loyalty",
                title=_("Loyalty"),
                template="loyalty/_customer_panel.html",
                context=customer_loyalty_context,
                allowed=is_internal,
                order=30,
            )
        )
        register_nav(
            NavItem(label=_("Loyalty"), url_name="loyalty:reports", allowed=is_internal, order=40)
        )
