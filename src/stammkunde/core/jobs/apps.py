from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "stammkunde.core.jobs"
    label = "jobs"
    verbose_name = _("Jobs")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from stammkunde.core.navigation import NavItem, StartTile, register_nav, register_start_tile
        from stammkunde.core.roles import ADMIN, TEAM_LEAD, has_role

        from .start import failed_jobs_context

        register_nav(NavItem(_("Jobs"), "jobs:list", lambda u: has_role(u, "admin"), 95))
        register_start_tile(
            StartTile(
                "failed_jobs",
                _("Failed jobs"),
                "jobs/_start_failed.html",
                failed_jobs_context,
                lambda u: has_role(u, ADMIN, TEAM_LEAD),
                30,
            )
        )

        from .schedule import schedule_sync_after_migrate

        post_migrate.connect(schedule_sync_after_migrate, dispatch_uid="stammkunde.jobs.sync")
