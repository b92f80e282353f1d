from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "stammkunde.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from stammkunde.core.navigation import NavItem, StartTile, register_nav, register_start_tile
        from stammkunde.core.roles import MARKETING, has_role, roles_of

        from .start import consent_changes_context

        register_nav(NavItem(_("Customers"), "customers:list", lambda u: bool(roles_of(u)), 10))
        register_start_tile(
            StartTile(
                "consents",
                _("Consent changes"),
                "customers/_start_consents.html",
                consent_changes_context,
                lambda u: has_role(u, MARKETING),
                42,
            )
        )
