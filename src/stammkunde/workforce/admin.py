from django.contrib import admin

from .models import ContactVolume, PartnerContract, RosterEntry, StaffingTarget


@admin.register(StaffingTarget)
class StaffingTargetAdmin(admin.ModelAdmin):
    list_display = [
        "queue",
        "channel",
        "target_sl",
        "target_answer_s",
        "max_occupancy",
        "shrinkage",
        "aht_override_s",
    ]


@admin.register(PartnerContract)
class PartnerContractAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "price_per_ticket",
        "price_per_minute",
        "min_sla_attainment",
        "min_fcr_rate",
        "max_reopen_rate",
        "min_csat",
    ]
    list_select_related = ["partner"]


@admin.register(RosterEntry)
class RosterEntryAdmin(admin.ModelAdmin):
    list_display = ["queue", "date", "interval_start", "interval_minutes", "agents"]
    list_filter = ["queue"]
    date_hierarchy = "date"


@admin.register(ContactVolume)
class ContactVolumeAdmin(admin.ModelAdmin):
    list_display = ["queue", "channel", "interval_start", "contacts", "handled_seconds", "partner"]
    list_filter = ["queue", "channel", "partner"]
    list_select_related = ["partner"]
