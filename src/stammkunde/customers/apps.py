from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "stammkunde.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from stammkunde.core.navigation import NavItem, register_nav
        from stammkunde.core.roles import roles_of

        register_nav(NavItem(_("Customers"), "customers:list", lambda u: bool(roles_of(u)), 10))
