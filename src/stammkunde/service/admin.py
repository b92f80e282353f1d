from django.contrib import admin

from .models import (
    BusinessCalendar,
    Category,
    GoodwillGrant,
    Macro,
    Queue,
    ReplyTemplate,
    RootCause,
    SLAPolicy,
    Team,
    Ticket,
)


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "partner", "calendar", "team"]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "queue",
        "value_class",
        "priority",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
    ]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["number", "subject", "status", "queue", "assignee", "created_at"]
    list_filter = ["status", "queue", "type"]
    raw_id_fields = [
        "customer",
        "order",
        "order_line",
        "product",
        "follow_up_of",
        "merged_into",
        "split_from",
    ]
    search_fields = ["number", "subject"]


@admin.register(GoodwillGrant)
class GoodwillGrantAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "amount", "status", "requested_by", "decided_by"]
    raw_id_fields = ["ticket", "customer"]


admin.site.register([BusinessCalendar, Category, Macro, ReplyTemplate, RootCause, Team])
