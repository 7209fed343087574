"""The function catalogue and cancellation reasons the federation starts with (data only)."""

from django.db import migrations

FUNCTION_TYPES = [
    # code, name, category, tenant kind, counts as membership, grants role (code), order
    ("department_member", "Lid (afdelingsleden)", "membership", "department", True, None, 10),
    ("aspirant_member", "Aspirantlid", "aspirant", "department", True, None, 20),
    ("department_chair", "Voorzitter afdeling", "board", "department", False, None, 30),
    ("department_secretary", "Secretaris afdeling", "board", "department", False, None, 31),
    ("department_treasurer", "Penningmeester afdeling", "board", "department", False, None, 32),
    ("department_board_member", "Bestuurslid afdeling", "board", "department", False, None, 33),
    ("department_member_administration", "Ledenadministratie afdeling", "administration", "department", False,
     "department_member_administrator", 40),
    ("province_board_member", "Bestuurslid provincie", "board", "province", False, None, 50),
    ("province_member_administration", "Ledenadministratie provincie", "administration", "province", False,
     "province_member_administrator", 51),
    ("national_board_member", "Landelijk bestuurslid", "board", "national", False, None, 60),
    ("sponsor", "Sponsor", "sponsor", "province", False, None, 70),
    ("donor", "Donateur", "donor", "province", False, None, 71),
    ("supplier", "Leverancier", "supplier", "province", False, None, 72),
]

ROLES = {
    "department_member_administrator": ("Department member administrator", "department"),
    "province_member_administrator": ("Province member administrator", "province"),
}

REASONS = [
    "Verhuisd", "Leeftijdsgrens bereikt", "Geen tijd meer", "Geen interesse meer",
    "Contributie te hoog", "Overleden", "Anders",
]


def load(apps, schema_editor):
    Role = apps.get_model("tenants", "Role")
    FunctionType = apps.get_model("memberships", "FunctionType")
    CancellationReason = apps.get_model("memberships", "CancellationReason")
    # The roles' permissions are filled in after migrate (tenants.services.roles_sync).
    roles = {
        code: Role.objects.get_or_create(code=code, defaults={"name": name, "tenant_kind": kind, "is_builtin": True})[0]
        for code, (name, kind) in ROLES.items()
    }
    for code, name, category, kind, membership, role_code, order in FUNCTION_TYPES:
        FunctionType.objects.update_or_create(
            code=code,
            defaults={
                "name": name, "category": category, "tenant_kind": kind,
                "counts_as_membership": membership, "grants_role": roles.get(role_code), "order": order,
            },
        )
    for order, name in enumerate(REASONS):
        CancellationReason.objects.get_or_create(name=name, defaults={"order": order})


def unload(apps, schema_editor):
    apps.get_model("memberships", "FunctionType").objects.filter(
        code__in=[row[0] for row in FUNCTION_TYPES], functions__isnull=True
    ).delete()
    apps.get_model("memberships", "CancellationReason").objects.filter(name__in=REASONS).delete()


class Migration(migrations.Migration):
    dependencies = [("memberships", "0002_initial"), ("tenants", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
