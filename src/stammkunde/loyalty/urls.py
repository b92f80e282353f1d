from django.urls import path

from . import views

app_name = "loyalty"
urlpatterns = [
    path("", views.report_view, name="reports"),
    path("programs/", views.program_list_view, name="programs"),
    path("programs/new/", views.program_edit_view, name="program_create"),
    path("programs/<int:pk>/", views.program_edit_view, name="program_edit"),
    # The settings section "Loyalty program" (admins; linked from /settings/).
    path("settings/", views.rules_list_view, name="settings"),
    path("settings/new/", views.rules_create_view, name="settings_create"),
    path("settings/<int:pk>/", views.rules_edit_view, name="settings_program"),
    path("customers/<int:customer_pk>/enroll/", views.enroll_view, name="enroll"),
    path("customers/<int:customer_pk>/goodwill/", views.goodwill_view, name="goodwill"),
    path("me/<str:token>/", views.self_service_view, name="self_service"),
    path("me/<str:token>/card/", views.card_print_view, name="card_print"),
]
