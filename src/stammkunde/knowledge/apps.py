from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "stammkunde.knowledge"
    label = "knowledge"
