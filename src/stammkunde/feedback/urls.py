from django.urls import path

from . import views

app_name = "feedback"
urlpatterns = [
    path("", views.survey_list_view, name="surveys"),
    path("new/", views.survey_create_view, name="survey_create"),
    path("<int:pk>/", views.survey_detail_view, name="survey"),
    path("<int:pk>/edit/", views.survey_edit_view, name="survey_edit"),
    path("<int:pk>/publish/", views.survey_publish_view, name="survey_publish"),
    path("<int:pk>/triggers/", views.trigger_add_view, name="trigger_add"),
    path("triggers/<int:pk>/toggle/", views.trigger_toggle_view, name="trigger_toggle"),
    # The settings section "Survey rules" (admins, team leads; linked from /settings/).
    path("rules/", views.rules_view, name="rules"),
    path("rules/new/", views.rule_create_view, name="rule_create"),
    path("rules/<int:pk>/", views.rule_edit_view, name="rule"),
    path("rules/<int:pk>/active/", views.rule_active_view, name="rule_active"),
    path("<int:pk>/phone/", views.response_enter_view, name="response_enter"),
    path("responses/<int:pk>/", views.response_detail_view, name="response"),
    path("report/", views.report_view, name="report"),
    path("plotly.js", views.plotly_js_view, name="plotly_js"),
    path("s/<str:token>/", views.answer_view, name="answer"),
]
