from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "stammkunde.core"
    label = "core"
    verbose_name = "Stammkunde core"

    def ready(self) -> None:
        from stammkunde import celery  # noqa: F401  (registers the Celery app)

        from .roles import ensure_roles

        post_migrate.connect(ensure_roles, dispatch_uid="stammkunde.core.ensure_roles")
