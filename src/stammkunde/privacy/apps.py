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
        from stammkunde.core.setting_sections import SettingsSection, register_settings_section

        from .selectors import customer_privacy_context, nav_label, privacy_approver, privacy_staff

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
        # The settings index (/settings/) links to the retention periods with their dry run.
        # Who may: as the page itself (privacy_approver: admins and team leads).
        register_settings_section(
            SettingsSection(
                key="retention",
                title=_("Retention periods"),
                description=_(
                    "How long mails, ticket texts, survey texts, audit entries and exports "
                    "are kept, with a dry run of what would go now."
                ),
                url_name="privacy:retention",
                allowed=privacy_approver,
                order=90,
            )
        )
