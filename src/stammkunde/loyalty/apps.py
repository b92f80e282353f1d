from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "stammkunde.loyalty"
    label = "loyalty"
    verbose_name = _("Loyalty")

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

        from . import services
        from .selectors import (
            customer_loyalty_context,
            goodwill_payouts_fill,
            may_set_program_rules,
        )
        from .services import (
            goodwill_grant_pay_out,
            points_accrue_for_order,
            points_reverse_for_return,
        )

        # An order earns points, a return takes them back (both skip non-members).
        hook_register("order_created", points_accrue_for_order)
        hook_register("return_created", points_reverse_for_return)
        hook_register("orders_created", services.points_accrue_for_orders)  # bulk (imports)
        hook_register("returns_created", services.points_reverse_for_returns)
        # A ticket's goodwill of kind points or voucher is paid out here.
        hook_register("goodwill_granted", goodwill_grant_pay_out)
        # Pages that list goodwill show the voucher code and status from here.
        hook_register("goodwill_payouts", goodwill_payouts_fill)
        register_customer_panel(
            CustomerPanel(
                key="loyalty",
                title=_("Loyalty"),
                template="loyalty/_customer_panel.html",
                context=customer_loyalty_context,
                allowed=is_internal,
                order=30,
            )
        )
        register_nav(
            NavItem(label=_("Loyalty"), url_name="loyalty:reports", allowed=is_internal, order=40)
        )
        # The settings index (/settings/) links to the programme rules (admins only).
        register_settings_section(
            SettingsSection(
                key="loyalty",
                title=_("Loyalty program"),
                description=_(
                    "Points per euro, when points expire, and the tiers with their "
                    "thresholds and benefits."
                ),
                url_name="loyalty:settings",
                allowed=may_set_program_rules,
                order=80,
            )
        )
