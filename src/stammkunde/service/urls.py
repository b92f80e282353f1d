from django.urls import path

from . import views

app_name = "service"
urlpatterns = [
    path("", views.inbox_view, name="inbox"),
    path("bulk/", views.bulk_view, name="bulk"),
    path("notifications/read/", views.notifications_read_view, name="notifications_read"),
    path("reports/", views.reports_view, name="reports"),
    path("tickets/new/", views.ticket_create_view, name="create"),
    path("tickets/<int:pk>/", views.ticket_view, name="ticket"),
    path("tickets/<int:pk>/reply/", views.reply_view, name="reply"),
    path("tickets/<int:pk>/change/", views.change_view, name="change"),
    path("tickets/<int:pk>/goodwill/", views.goodwill_view, name="goodwill"),
    path("tickets/<int:pk>/handover/", views.handover_view, name="handover"),
    path("tickets/<int:pk>/macro/", views.macro_view, name="macro"),
    path("tickets/<int:pk>/merge/", views.merge_view, name="merge"),
    path("tickets/<int:pk>/split/", views.split_view, name="split"),
    path("tickets/<int:pk>/template/", views.template_view, name="template"),
    path("goodwill/<int:pk>/decide/", views.goodwill_decide_view, name="goodwill_decide"),
    path("attachments/<int:pk>/", views.attachment_view, name="attachment"),
]
