from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """The analytics app keeps its Django models in ``orm.py``.

    ``analytics/models/`` is the Django-free numeric core (BG/NBD, Gamma-Gamma,
    churn, ...), importable without settings; so the ORM models cannot live in
    ``analytics.models`` and are imported here instead.
    """

    name = "stammkunde.analytics"
    label = "analytics"

    def ready(self) -> None:
        from importlib.util import find_spec

        if find_spec("stammkunde.analytics.orm") is not None:
            from . import orm  # noqa: F401
