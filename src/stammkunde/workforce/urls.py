from django.urls import path

from . import views

app_name = "workforce"
urlpatterns = [
    path("", views.index_view, name="index"),
    path("forecast/", views.forecast_view, name="forecast"),
    path("staffing/", views.staffing_view, name="staffing"),
    path("staffing/roster/", views.roster_block_view, name="roster_block"),
    path("staffing/target/", views.target_set_view, name="target_set"),
    path("scenario/", views.scenario_view, name="scenario"),
    path("scorecards/", views.scorecards_view, name="scorecards"),
    path(
        "scorecards/partner/<int:partner_id>/",
        views.scorecard_partner_view,
        name="scorecard_partner",
    ),
    path("imports/", views.import_view, name="imports"),
    path("plotly-<str:version>.js", views.plotly_js, name="plotly"),
]
