from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "stammkunde.feedback"
    label = "feedback"
    verbose_name = _("Feedback")

    def ready(self) -> None:
        from stammkunde.core.hooks import hook_register
        from stammkunde.core.navigation import (
            CustomerPanel,
            NavItem,
            register_customer_panel,
            register_nav,
        )
        from stammkunde.core.roles import is_internal
        from stammkunde.core.setting_sections import SettingsSection, register_settings_section

        from . import selectors, services
        from .timeline import timeline_texts_register

        timeline_texts_register()

        # Solving a ticket invites to the CSAT survey at once (triggers without a delay).
        hook_register("ticket_solved", services.invitation_for_solved_ticket)
        # The ticket page shows whether a survey is planned, sent or answered.
        hook_register("ticket_survey_state", selectors.ticket_survey_state_fill)
        # A survey mail counts as sent once the relay accepted it (the channels outbox).
        hook_register("outbox_sent", services.invitation_mark_sent)

        register_nav(
            NavItem(
                label=_("Feedback"),
                url_name="feedback:surveys",
                allowed=is_internal,
                order=55,
            )
        )
        register_customer_panel(
            CustomerPanel(
                key="feedback",
                title=_("Feedback"),
                template="feedback/_customer_panel.html",
                context=selectors.customer_feedback_context,
                allowed=is_internal,
                order=40,
            )
        )
        # The settings index (/settings/) links to the survey rules (admins, team leads).
        register_settings_section(
            SettingsSection(
                key="survey_rules",
                title=_("Survey rules"),
                description=_(
                    "When surveys are sent: after tickets, orders, periodically or by "
                    "lifecycle phase, with the minimum gap per customer."
                ),
                url_name="feedback:rules",
                allowed=selectors.may_set_survey_rules,
                order=85,
            )
        )
