from django.urls import path

from . import views

app_name = "knowledge"
urlpatterns = [
    path("", views.article_list_view, name="list"),
    path("new/", views.article_edit_view, name="create"),
    path("<int:pk>/", views.article_detail_view, name="detail"),
    path("<int:pk>/edit/", views.article_edit_view, name="edit"),
]
