from django.contrib import admin

from .models import Campaign, CampaignContact, DoiRequest, QuietPeriod, Segment


@admin.register(QuietPeriod)
class QuietPeriodAdmin(admin.ModelAdmin):
    list_display = ("name", "starts_on", "ends_on")


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "mode", "updated_at")
    readonly_fields = ("frozen_at",)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "playbook_phase", "channel", "trigger", "status")
    list_filter = ("status", "channel", "trigger")
    readonly_fields = ("assignment_key", "uplift_model", "activated_at", "version")


@admin.register(CampaignContact)
class CampaignContactAdmin(admin.ModelAdmin):
    list_display = ("campaign", "customer", "group", "status", "contacted_at")
    list_filter = ("group", "status", "channel")
    raw_id_fields = ("customer", "campaign", "run")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # the contact log is written by the services only


@admin.register(DoiRequest)
class DoiRequestAdmin(admin.ModelAdmin):
    list_display = ("email", "requested_at", "confirmed_at")
    readonly_fields = [f.name for f in DoiRequest._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
