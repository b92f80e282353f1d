from django.urls import path

from . import views

app_name = "loyalty"
urlpatterns = [
    path("", views.report_view, name="reports"),
    path("programs/", views.program_list_view, name="programs"),
    path("programs/new/", views.program_edit_view, name="program_create"),
    path("programs/<int:pk>/", views.program_edit_view, name="program_edit"),
    path("customers/<int:customer_pk>/enroll/", views.enroll_view, name="enroll"),
    path("customers/<int:customer_pk>/goodwill/", views.goodwill_view, name="goodwill"),
    path("me/<str:token>/", views.self_service_view, name="self_service"),
    path("me/<str:token>/card/", views.card_print_view, name="card_print"),
]
