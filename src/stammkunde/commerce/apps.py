from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommerceConfig(AppConfig):
    name = "stammkunde.commerce"
    label = "commerce"
    verbose_name = _("Commerce")

    def ready(self) -> None:
        from stammkunde.core.navigation import CustomerPanel, register_customer_panel
        from stammkunde.core.roles import is_internal

        from .selectors import customer_commerce_context
        from .timeline import timeline_texts_register

        timeline_texts_register()

        register_customer_panel(
            CustomerPanel(
                key="commerce",
                title=_("Purchases"),
                template="commerce/_customer_panel.html",
                context=customer_commerce_context,
                allowed=is_internal,
                order=20,
            )
        )
