from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "stammkunde.feedback"
    label = "feedback"
