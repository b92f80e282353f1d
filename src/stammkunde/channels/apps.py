from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "stammkunde.channels"
    label = "channels"
    verbose_name = _("Channels")

    def ready(self) -> None:
        from django.db import transaction

        from .timeline import timeline_texts_register

        timeline_texts_register()

        from stammkunde.core.hooks import hook_register
        from stammkunde.core.navigation import (
            CustomerPanel,
            NavItem,
            StartTile,
            register_customer_panel,
            register_nav,
            register_start_tile,
        )
        from stammkunde.core.roles import ADMIN, TEAM_LEAD, has_role, is_internal

        from .selectors import customer_contact_panel_context
        from .services import outbox_enqueue_reply
        from .start import failed_mails_context

        def email_public_reply(message: object) -> None:
            transaction.on_commit(lambda: outbox_enqueue_reply(message))  # type: ignore[arg-type]

        hook_register("ticket_public_reply", email_public_reply)

        register_nav(
            NavItem(
                label=_("Mail quarantine"),
                url_name="channels:quarantine",
                allowed=lambda user: has_role(user, ADMIN),
                order=90,
            )
        )
        register_customer_panel(
            CustomerPanel(
                key="contact_log",
                title=_("Log a contact"),
                template="channels/_contact_panel.html",
                context=customer_contact_panel_context,
                allowed=is_internal,
                order=40,
            )
        )
        register_start_tile(
            StartTile(
                "failed_mails",
                _("Failed mails"),
                "channels/_start_failed_mail.html",
                failed_mails_context,
                lambda user: has_role(user, ADMIN, TEAM_LEAD),
                31,
            )
        )
