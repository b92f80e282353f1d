from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "stammkunde.service"
    label = "service"
    verbose_name = _("Service desk")

    def ready(self) -> None:
        from stammkunde.core.navigation import (
            CustomerPanel,
            NavItem,
            register_customer_panel,
            register_nav,
        )

        from .selectors import customer_tickets_context

        def can_view(user: object) -> bool:
            return bool(user.has_perm("service.view_ticket"))  # type: ignore[attr-defined]

        register_nav(
            NavItem(label=_("Service"), url_name="service:inbox", allowed=can_view, order=20)
        )
        register_customer_panel(
            CustomerPanel(
                key="tickets",
                title=_("Tickets"),
                template="service/_customer_panel.html",
                context=customer_tickets_context,
                allowed=can_view,
                order=15,
            )
        )
