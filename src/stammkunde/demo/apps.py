from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "stammkunde.demo"
    label = "demo"
    verbose_name = "Demo shop"
