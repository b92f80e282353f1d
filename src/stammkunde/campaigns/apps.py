from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "stammkunde.campaigns"
    label = "campaigns"
