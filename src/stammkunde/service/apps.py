from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "stammkunde.service"
    label = "service"
