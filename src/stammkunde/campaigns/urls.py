from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list_view, name="list"),
    path("new/", views.campaign_edit_view, name="create"),
    path("<int:pk>/", views.campaign_detail_view, name="detail"),
    path("<int:pk>/edit/", views.campaign_edit_view, name="edit"),
    path("<int:pk>/status/", views.campaign_status_view, name="status"),
    path("<int:pk>/run/", views.campaign_run_view, name="run"),
    path("<int:pk>/preview/", views.campaign_preview_view, name="preview"),
    path("<int:pk>/test-send/", views.campaign_test_send_view, name="test_send"),
    path("<int:pk>/evaluate/", views.campaign_evaluate_view, name="evaluate"),
    path("<int:pk>/contacts.csv", views.campaign_export_view, name="export"),
    path("<int:pk>/letters/", views.campaign_letters_view, name="letters"),
    path("<int:pk>/letters.csv", views.campaign_letters_view, {"fmt": "csv"}, name="letters_csv"),
    path("segments/", views.segment_list_view, name="segments"),
    path("segments/new/", views.segment_edit_view, name="segment_create"),
    path("segments/<int:pk>/", views.segment_edit_view, name="segment_edit"),
    path("segments/count/", views.segment_count_view, name="segment_count"),
    path("plotly.js", views.plotly_js_view, name="plotly_js"),
    # Public pages for customers (no login).
    path("signup/", views.signup_view, name="signup"),
    path("signup/confirm/<str:token>/", views.signup_confirm_view, name="signup_confirm"),
    path("u/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
]
