from importlib.util import find_spec

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from stammkunde.core import account_views
from stammkunde.core import views as core_views

# API clients get the JSON error body for paths the router does not match.
handler404 = "stammkunde.core.api.not_found"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("health/", core_views.health, name="health"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/login/code/", account_views.login_code_view, name="login_code"),
    path("accounts/two-factor/", account_views.two_factor_view, name="two_factor"),
    path(
        "accounts/password/reset/",
        account_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI with its set-up script served from the same view (?script), not inline: CSP.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs.html"),
        name="api-docs",
    ),
    path("api/", include("stammkunde.api_urls")),
    path("admin/", admin.site.urls),
]

# Each Stammkunde app with a ``urls.py`` is served under its label: /customers/, /service/, ...
urlpatterns += [
    path(f"{app.label}/", include(f"{app.name}.urls"))
    for app in apps.get_app_configs()
    if app.name.startswith("stammkunde.") and find_spec(f"{app.name}.urls")
]
