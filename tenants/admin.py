"""Django's admin, for operators (superusers) repairing data; administrators use the app."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from simple_history.admin import SimpleHistoryAdmin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .models import AuditEvent, Role, RoleAssignment, Tenant, User


@admin.register(Tenant)
class TenantAdmin(TreeAdmin):
    form = movenodeform_factory(Tenant)
    list_display = ["name", "kind"]
    search_fields = ["name", "short_name"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (*DjangoUserAdmin.fieldsets, (None, {"fields": ("tenant", "must_change_password")}))
    list_display = ["username", "email", "first_name", "last_name", "tenant", "is_active"]
    list_select_related = ["tenant"]
    autocomplete_fields = ["tenant"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "tenant_kind", "is_builtin"]
    filter_horizontal = ["permissions"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["user", "role", "tenant", "start_date", "end_date"]
    list_select_related = ["user", "role", "tenant"]
    raw_id_fields = ["user", "tenant", "created_by"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "tenant", "target_user"]
    list_select_related = ["actor", "tenant", "target_user"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
