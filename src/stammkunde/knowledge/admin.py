from django.contrib import admin

from .models import Article, ArticleCategory


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "visibility", "version", "updated_at"]
    list_filter = ["visibility", "category"]
    search_fields = ["title"]


admin.site.register(ArticleCategory)
