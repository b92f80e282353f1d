from django.contrib import admin

from .models import Answer, Invitation, Question, Response, Survey, SurveyVersion, Trigger


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "active", "current_version")


@admin.register(SurveyVersion)
class SurveyVersionAdmin(admin.ModelAdmin):
    list_display = ("survey", "number", "published_at")
    inlines = [QuestionInline]


@admin.register(Trigger)
class TriggerAdmin(admin.ModelAdmin):
    list_display = ("survey", "event", "delay_days", "min_gap_days", "active", "last_run_at")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("customer", "version", "created_at", "sent_at", "answered_at", "expires_at")
    raw_id_fields = ("customer", "source_ticket", "source_order")
    exclude = ("key",)


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("version", "customer", "source", "submitted_at", "nps", "csat", "ces")
    raw_id_fields = ("customer", "invitation", "follow_up_ticket")
    inlines = [AnswerInline]
