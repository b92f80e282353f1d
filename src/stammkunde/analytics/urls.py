from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("plotly.js", views.plotly_js_view, name="plotly_js"),
]
