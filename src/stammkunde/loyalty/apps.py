from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "stammkunde.loyalty"
    label = "loyalty"
