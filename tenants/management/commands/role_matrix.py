"""Print which role carries which permission (SPEC T2), national-only powers marked."""

from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand

from tenants.models import Role
from tenants.roles import NATIONAL_ONLY


class Command(BaseCommand):
    help = "Print the role × permission matrix."

    def handle(self, *args, **options):
        roles = list(Role.objects.prefetch_related("permissions__content_type").order_by("tenant_kind", "name"))
        held = {
            role.pk: {f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.all()}
            for role in roles
        }
        perms = sorted(set().union(*held.values())) if held else []
        names = {
            f"{p.content_type.app_label}.{p.codename}": p.name
            for p in Permission.objects.select_related("content_type")
        }
        width = max((len(p) for p in perms), default=10) + 2
        for number, role in enumerate(roles, 1):
            self.stdout.write(f"  [{number}] {role.label} ({role.get_tenant_kind_display()})")
        self.stdout.write("")
        header = "permission".ljust(width) + " ".join(f"[{n}]" for n in range(1, len(roles) + 1))
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for perm in perms:
            cells = " ".join(" x " if perm in held[role.pk] else " . " for role in roles)
            marker = "  (national only)" if perm in NATIONAL_ONLY else ""
            self.stdout.write(f"{perm.ljust(width)}{cells}   {names.get(perm, '')}{marker}")
