from django.urls import path

from . import views

app_name = "settings"
urlpatterns = [
    path("", views.index_view, name="index"),
    path("welcome/", views.welcome_view, name="welcome"),
    path("company/", views.company_view, name="company"),
    path("company/logo/", views.logo_view, name="logo"),
    path("hours/", views.calendars_view, name="calendars"),
    path("hours/new/", views.calendar_create_view, name="calendar_create"),
    path("hours/<int:pk>/", views.calendar_edit_view, name="calendar"),
    path("queues/", views.queues_view, name="queues"),
    path("queues/new/", views.queue_create_view, name="queue_create"),
    path("queues/<int:pk>/", views.queue_edit_view, name="queue"),
    path("sla/", views.sla_view, name="sla"),
    path("sla/new/", views.sla_create_view, name="sla_create"),
    path("sla/<int:pk>/", views.sla_edit_view, name="sla_policy"),
    path("sla/<int:pk>/delete/", views.sla_delete_view, name="sla_delete"),
    path("templates/", views.templates_view, name="templates"),
    path("templates/new/", views.template_create_view, name="template_create"),
    path("templates/<int:pk>/", views.template_edit_view, name="template"),
    path("mail/", views.mail_accounts_view, name="mail_accounts"),
    path("mail/new/", views.mailbox_create_view, name="mailbox_create"),
    path("mail/<int:pk>/", views.mailbox_edit_view, name="mailbox"),
    path("mail/<int:pk>/active/", views.mailbox_active_view, name="mailbox_active"),
    path("mail/<int:pk>/test/", views.mailbox_test_view, name="mailbox_test"),
    path("mail/outgoing/", views.outgoing_view, name="mail_outgoing"),
    path("mail/outgoing/test/", views.outgoing_test_view, name="mail_outgoing_test"),
    path("users/", views.users_view, name="users"),
    path("users/invite/", views.user_invite_view, name="user_invite"),
    path("users/<int:pk>/", views.user_edit_view, name="user"),
    path("users/<int:pk>/active/", views.user_active_view, name="user_active"),
    path("users/<int:pk>/password/", views.user_password_view, name="user_password"),
]
