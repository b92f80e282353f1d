from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "stammkunde.feedback"
    label = "feedback"
    verbose_name = _("Feedback")

    def ready(self) -> None:
        from stammkunde.core.navigation import (
            CustomerPanel,
            NavItem,
            register_customer_panel,
            register_nav,
        )
        from stammkunde.core.roles import is_internal

        from . import selectors

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
