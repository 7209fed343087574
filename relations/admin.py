"""Django's admin for operators: the export log, read only (who exported which personal data)."""

from django.contrib import admin

from .models import ExportLog


@admin.register(ExportLog)
class ExportLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "tenant", "what", "format", "rows"]
    list_select_related = ["user", "tenant"]
    list_filter = ["format"]
    search_fields = ["user__username", "what"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
