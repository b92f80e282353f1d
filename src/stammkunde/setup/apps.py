from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SetupConfig(AppConfig):
    """The settings pages (``/settings/``) and the first-run wizard.

    The label is ``settings`` so that the URL wiring serves the app under
    ``/settings/``; the package is ``setup`` because ``stammkunde.settings`` is
    the Django settings module.
    """

    name = "stammkunde.setup"
    label = "settings"
    verbose_name = _("Settings")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from stammkunde.core.navigation import NavItem, register_nav
        from stammkunde.core.setting_sections import SettingsSection, register_settings_section

        from .selectors import may_open_settings, settings_admin, settings_lead

        register_nav(
            NavItem(
                label=_("Settings"), url_name="settings:index", allowed=may_open_settings, order=95
            )
        )
        for key, title, description, url_name, allowed, order in (
            (
                "company",
                _("Company"),
                _("Name, address, logo, imprint and privacy links used in mails."),
                "settings:company",
                settings_admin,
                10,
            ),
            (
                "hours",
                _("Business hours and holidays"),
                _("Opening hours per weekday, public holidays of your federal state, closed days."),
                "settings:calendars",
                settings_lead,
                20,
            ),
            (
                "queues",
                _("Queues"),
                _("Where tickets wait, and who works on them."),
                "settings:queues",
                settings_lead,
                30,
            ),
            (
                "sla",
                _("SLA policies"),
                _("Response and resolution targets per priority and customer class."),
                "settings:sla",
                settings_lead,
                40,
            ),
            (
                "templates",
                _("Reply templates"),
                _("Canned replies with placeholders, with a preview."),
                "settings:templates",
                settings_lead,
                50,
            ),
            (
                "users",
                _("Users and roles"),
                _("Invite colleagues; roles, goodwill limits, deactivation, password resets."),
                "settings:users",
                settings_admin,
                60,
            ),
            (
                "mail_accounts",
                _("Mail accounts"),
                _(
                    "Incoming mailboxes (IMAP) and the outgoing mail server (SMTP), "
                    "with a test of the connection."
                ),
                "settings:mail_accounts",
                settings_admin,
                70,
            ),
        ):
            register_settings_section(
                SettingsSection(
                    key=key,
                    title=title,
                    description=description,
                    url_name=url_name,
                    allowed=allowed,
                    order=order,
                )
            )
