from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "stammkunde.loyalty"
    label = "loyalty"

    def ready(self) -> None:
        from stammkunde.core.hooks import hook_register

        from .services import points_accrue_for_order

        # An order earns points (skips customers without a loyalty account).
        hook_register("order_created", points_accrue_for_order)
