"""The function catalogue and reasons for ending the federation starts with.

Kept present after every `migrate` (and after a test database is flushed), the way the built-in
roles are: function types are found by code and created when missing (their names stay editable);
the reasons are only loaded into an empty list, so the federation's own list is never undone.
"""

from __future__ import annotations

from django.db import transaction

from tenants.models import Role

from .models import CancellationReason, FunctionType

FUNCTION_TYPES = [
    # code, name, category, tenant kind, counts as membership, grants role (code), order
    ("department_member", "Lid (afdelingsleden)", "membership", "department", True, None, 10),
    ("aspirant_member", "Aspirantlid", "aspirant", "department", True, None, 20),
    ("department_chair", "Voorzitter afdeling", "board", "department", False, None, 30),
    ("department_secretary", "Secretaris afdeling", "board", "department", False, None, 31),
    ("department_treasurer", "Penningmeester afdeling", "board", "department", False, None, 32),
    ("department_board_member", "Bestuurslid afdeling", "board", "department", False, None, 33),
    ("department_member_administration", "Ledenadministratie afdeling", "administration", "department",
     False, "department_member_administrator", 40),
    ("province_board_member", "Bestuurslid provincie", "board", "province", False, None, 50),
    ("province_member_administration", "Ledenadministratie provincie", "administration", "province",
     False, "province_member_administrator", 51),
    ("national_board_member", "Landelijk bestuurslid", "board", "national", False, None, 60),
    ("sponsor", "Sponsor", "sponsor", "province", False, None, 70),
    ("donor", "Donateur", "donor", "province", False, None, 71),
    ("supplier", "Leverancier", "supplier", "province", False, None, 72),
]

CANCELLATION_REASONS = [
    "Verhuisd", "Leeftijdsgrens bereikt", "Geen tijd meer", "Geen interesse meer",
    "Contributie te hoog", "Overleden", "Anders",
]


@transaction.atomic
def catalogue_ensure() -> None:


    roles = {role.code: role for role in Role.objects.all()}
    for code, name, category, kind, membership, role_code, order in FUNCTION_TYPES:
        FunctionType.objects.get_or_create(
            code=code,
            defaults={
                "name": name, "category": category, "tenant_kind": kind,
                "counts_as_membership": membership, "grants_role": roles.get(role_code),
                "order": order,
            },
        )
    if not CancellationReason.objects.exists():
        CancellationReason.objects.bulk_create(
            CancellationReason(name=name, order=order) for order, name in enumerate(CANCELLATION_REASONS)
        )


def catalogue_ensure_after_migrate(sender, app_config=None, **kwargs) -> None:
    if app_config is not None and app_config.label == "memberships":
        catalogue_ensure()
