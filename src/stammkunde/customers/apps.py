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

        self._timeline_texts()

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

    @staticmethod
    def _timeline_texts() -> None:
        from .models import Channel, Consent
        from .timeline_texts import timeline_choice, timeline_text_register

        timeline_text_register(
            "customers.consent",
            "%(purpose)s (%(channel)s): %(status)s",
            purpose=timeline_choice(Consent.Purpose),
            channel=timeline_choice(Channel),
            status=timeline_choice(Consent.Status),
        )
        # Written by dataio's merge (params: number of the record merged away).
        timeline_text_register(
            "customers.merged", _("Customer %(number)s was merged into this record")
        )
