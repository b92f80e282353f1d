from django.urls import path

from . import views

app_name = "dataio"
urlpatterns = [
    path("", views.home_view, name="home"),
    path("jobs/<int:pk>/", views.job_view, name="job"),
    path("jobs/<int:pk>/report.csv", views.job_report_view, name="job_report"),
    path("jobs/<int:pk>/start/", views.job_start_view, name="job_start"),
    path("duplicates/", views.duplicates_view, name="duplicates"),
    path("duplicates/<int:pk>/", views.merge_view, name="merge"),
    path("exports/", views.exports_view, name="exports"),
    path("exports/<int:pk>/download/", views.export_download_view, name="export_download"),
    path("exports/<int:pk>/start/", views.export_start_view, name="export_start"),
    path("webhooks/", views.webhooks_view, name="webhooks"),
    path("webhooks/deliveries/<int:pk>/resend/", views.webhook_resend_view, name="webhook_resend"),
]
