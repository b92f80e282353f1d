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
            StartTile,
            register_customer_panel,
            register_nav,
            register_start_tile,
        )
        from stammkunde.core.roles import ADMIN, AGENT, PARTNER_AGENT, TEAM_LEAD, has_role

        from . import start
        from .selectors import customer_tickets_context
        from .timeline import timeline_texts_register

        timeline_texts_register()

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

        def works_tickets(user: object) -> bool:
            return has_role(user, AGENT, PARTNER_AGENT, TEAM_LEAD, ADMIN)  # type: ignore[arg-type]

        def leads(user: object) -> bool:
            return has_role(user, TEAM_LEAD, ADMIN, PARTNER_AGENT)  # type: ignore[arg-type]

        def decides_goodwill(user: object) -> bool:
            return has_role(user, TEAM_LEAD, ADMIN)  # type: ignore[arg-type]

        for tile in (
            StartTile(
                "my_tickets",
                _("My open tickets"),
                "service/_start_my_tickets.html",
                start.my_tickets_context,
                lambda u: has_role(u, AGENT, PARTNER_AGENT),
                10,
            ),
            StartTile(
                "sla",
                _("SLA warnings"),
                "service/_start_sla.html",
                start.sla_context,
                works_tickets,
                11,
            ),
            StartTile(
                "queues",
                _("Queue health"),
                "service/_start_queues.html",
                start.queue_health_context,
                leads,
                20,
            ),
            StartTile(
                "goodwill",
                _("Goodwill waiting for approval"),
                "service/_start_goodwill.html",
                start.goodwill_context,
                decides_goodwill,
                21,
            ),
        ):
            register_start_tile(tile)
