"""All API routes in one router; each app's ``api.register(router)`` adds its viewsets."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from rest_framework.routers import DefaultRouter

router = DefaultRouter()
for app_config in apps.get_app_configs():
    if app_config.name.startswith("stammkunde.") and find_spec(f"{app_config.name}.api"):
        module = import_module(f"{app_config.name}.api")
        if hasattr(module, "register"):
            module.register(router)

urlpatterns = router.urls
