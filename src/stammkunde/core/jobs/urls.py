from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("", views.jobs_view, name="list"),
    path("running/", views.running_view, name="running"),
    path("start/", views.start_view, name="start"),
    path("acknowledge/", views.acknowledge_all_view, name="acknowledge_all"),
    path("<int:pk>/", views.job_view, name="detail"),
    path("<int:pk>/retry/", views.retry_view, name="retry"),
    path("<int:pk>/acknowledge/", views.acknowledge_view, name="acknowledge"),
]
