from django.apps import AppConfig


class WorkforceConfig(AppConfig):
    name = "stammkunde.workforce"
    label = "workforce"
