from django.urls import path

from . import views

app_name = "channels"
urlpatterns = [
    path("quarantine/", views.quarantine_view, name="quarantine"),
    path("quarantine/<int:pk>/reprocess/", views.reprocess_view, name="reprocess"),
    path("inbound/<int:pk>/raw/", views.inbound_raw_view, name="inbound_raw"),
    path(
        "inbound/<int:pk>/attachment/<int:index>/",
        views.inbound_attachment_view,
        name="inbound_attachment",
    ),
    path("ticket/<int:ticket_id>/mail/", views.ticket_mail_view, name="ticket_mail"),
    path("outbox/<int:pk>/retry/", views.outbox_retry_view, name="outbox_retry"),
    path("contact/", views.contact_view, name="contact"),
    path("customer/<int:customer_id>/contact-log/", views.contact_log_view, name="contact_log"),
]
