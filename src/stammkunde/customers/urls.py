from django.urls import path

from . import contact_views, views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list_view, name="list"),
    path("new/", views.customer_create_view, name="create"),
    path("picker/", views.customer_picker_view, name="picker"),
    path("<int:pk>/", views.customer_detail_view, name="detail"),
    path("<int:pk>/edit/", views.customer_edit_view, name="edit"),
    path("<int:pk>/timeline/", views.customer_timeline_view, name="timeline"),
    path("<int:pk>/consents/", views.consent_add_view, name="consent_add"),
    path("<int:pk>/addresses/new/", contact_views.address_edit_view, name="address_add"),
    path(
        "<int:pk>/addresses/<int:address_id>/",
        contact_views.address_edit_view,
        name="address_edit",
    ),
    path(
        "<int:pk>/addresses/<int:address_id>/delete/",
        contact_views.address_delete_view,
        name="address_delete",
    ),
    path("<int:pk>/contacts/new/", contact_views.contact_person_edit_view, name="contact_add"),
    path(
        "<int:pk>/contacts/<int:person_id>/",
        contact_views.contact_person_edit_view,
        name="contact_edit",
    ),
    path(
        "<int:pk>/contacts/<int:person_id>/delete/",
        contact_views.contact_person_delete_view,
        name="contact_delete",
    ),
]
