from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    """The analytics app keeps its Django models in ``orm.py``.

    ``analytics/models/`` is the Django-free numeric core (BG/NBD, Gamma-Gamma,
    churn, ...), importable without settings; so the ORM models cannot live in
    ``analytics.models`` and are imported here instead.
    """

    name = "stammkunde.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from stammkunde.core.navigation import (
            CustomerListFilter,
            CustomerPanel,
            NavItem,
            StartTile,
            register_customer_list_filter,
            register_customer_panel,
            register_nav,
            register_start_tile,
        )
        from stammkunde.core.roles import ANALYST, has_role, is_internal

        from . import (
            orm,  # noqa: F401  (registers the Django models)
            selectors,
            start,
            views,
        )

        register_customer_panel(
            CustomerPanel(
                key="analytics",
                title=_("Analytics"),
                template="analytics/_customer_panel.html",
                context=selectors.customer_analytics_context,
                allowed=is_internal,
                order=10,
            )
        )
        register_nav(
            NavItem(
                label=_("Analytics"),
                url_name="analytics:dashboard",
                allowed=views.may_see_dashboard,
                order=60,
            )
        )
        register_customer_list_filter(
            CustomerListFilter(
                param="phase",
                label=_("phase"),
                choices=selectors.phase_choices,
                apply=selectors.customers_in_phase,
                order=10,
            )
        )
        register_customer_list_filter(
            CustomerListFilter(
                param="risk",
                label=_("churn risk"),
                choices=selectors.risk_choices,
                apply=selectors.customers_at_risk,
                order=11,
            )
        )
        # Feedback (below analytics) asks for lifecycle phases through hooks.
        from stammkunde.core.hooks import hook_register

        hook_register("customer_phases", selectors.customer_phases_fill)
        hook_register("phase_entries", selectors.phase_entries_fill)
        register_start_tile(
            StartTile(
                "analytics",
                _("Analytics"),
                "analytics/_start_figures.html",
                start.analytics_context,
                lambda u: has_role(u, ANALYST),
                50,
            )
        )
