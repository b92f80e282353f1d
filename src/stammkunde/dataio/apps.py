from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataioConfig(AppConfig):
    name = "stammkunde.dataio"
    label = "dataio"
    verbose_name = _("Import/Export")

    def ready(self) -> None:
        from stammkunde.core.navigation import NavItem, register_nav

        from .access import may_import

        register_nav(NavItem(_("Import/Export"), "dataio:home", may_import, 80))

        from stammkunde.core.hooks import hook_register

        from .services import webhook_events

        # Lower apps announce these through core.hooks; they go out as webhooks.
        hook_register("ticket_created", webhook_events.ticket_created_emit)
        hook_register("ticket_solved", webhook_events.ticket_solved_emit)
        hook_register("points_changed", webhook_events.points_changed_emit)
        hook_register("churn_risk_raised", webhook_events.churn_risk_raised_emit)

        from .services.background import run_failed

        # An import or export whose job failed (or whose worker died) fails with it.
        hook_register("job_failed", run_failed)
