from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("", views.request_list_view, name="list"),
    path("new/", views.request_create_view, name="create"),
    path("<int:pk>/", views.request_detail_view, name="detail"),
    path("<int:pk>/identity/", views.request_identity_view, name="identity"),
    path("<int:pk>/extend/", views.request_extend_view, name="extend"),
    path("<int:pk>/export/", views.export_start_view, name="export_start"),
    path("<int:pk>/erase/", views.erasure_submit_view, name="erasure_submit"),
    path("<int:pk>/approve/", views.erasure_approve_view, name="erasure_approve"),
    path("<int:pk>/close/", views.request_close_view, name="close"),
    path("exports/<int:pk>/progress/", views.export_progress_view, name="export_progress"),
    path("exports/<int:pk>/<str:which>/", views.export_download_view, name="export_download"),
    path("customers/<int:pk>/withdraw/", views.consent_withdraw_view, name="consent_withdraw"),
    path("retention/", views.retention_view, name="retention"),
    path("records/", views.records_view, name="records"),
]
