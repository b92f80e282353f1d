from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "stammkunde.privacy"
    label = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from stammkunde.core.navigation import (
            CustomerPanel,
            NavItem,
            register_customer_panel,
            register_nav,
        )

        from .selectors import customer_privacy_context, nav_label, privacy_staff

        register_nav(
            NavItem(label=nav_label, url_name="privacy:list", allowed=privacy_staff, order=90)
        )
        register_customer_panel(
            CustomerPanel(
                key="privacy",
                title=_("Privacy"),
                template="privacy/_customer_panel.html",
                context=customer_privacy_context,
                allowed=privacy_staff,
                order=90,
            )
        )
