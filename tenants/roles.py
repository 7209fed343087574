"""The roles shipped with Ledenbeheer (SPEC T2) and the permissions each one bundles.

Built-in roles are kept in step with this module after every `migrate`, the way Django keeps its
own permissions. A power that only the federation may use is listed in NATIONAL_ONLY and only
national roles carry it; tests/tenants/test_roles.py holds that line.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import TenantKind

# Powers of the federation alone. Later features add theirs here (delete a function, transfer to
# another province, edit ledenmodule wizards, look along with a department administrator).
NATIONAL_ONLY = frozenset(
    {
        "tenants.add_tenant",
        "tenants.delete_tenant",
        "memberships.delete_function",
        "memberships.transfer_member_across_provinces",
        "memberships.add_cancellationreason",
        "memberships.change_cancellationreason",
        "memberships.view_noticerule",
        "memberships.add_noticerule",
        "memberships.change_noticerule",
        "memberships.delete_noticerule",
        "tenants.look_along",
        "wizards.change_ledenmodule_wizard",
        "quality.change_qualityrulesetting",
        "relations.export_personal_data",
        "relations.anonymise_relation",
        "relations.view_relationview",
        "quality.change_retentionsetting",
        # Which fields of a member's own correction need the department's approval (portal).
        "relations.change_approvalsetting",
        # Two-factor login (SPEC T9): which roles need it, and resetting someone's second factor.
        "tenants.change_twofactorpolicy",
        "tenants.reset_two_factor",
    }
)

VIEW_ENVIRONMENT = ("tenants.view_tenant",)

# View and change relation cards and their functions (SPEC T2 "member administrator").
MEMBER_ADMINISTRATION = (
    *VIEW_ENVIRONMENT,
    "relations.view_relation",
    "relations.add_relation",
    "relations.change_relation",
    "relations.export_relation",
    "relations.view_communicationentry",
    "relations.add_communicationentry",
    "memberships.view_function",
    "memberships.add_function",
    "memberships.change_function",
    "memberships.transfer_member",
    "intake.view_registration",
    "intake.add_registration",
    "intake.change_registration",
    "notifications.view_mailtemplate",
    "notifications.send_document",
    "wizards.view_wizard",
    "wizards.run_ledenmodule_wizard",
    "wizards.view_mutation_list",
    "quality.view_dataproblem",
    "quality.view_errorreportrecipient",
    "quality.add_errorreportrecipient",
    "quality.change_errorreportrecipient",
    "quality.delete_errorreportrecipient",
    "imports.add_importbatch",
    "imports.view_duplicatecandidate",
    "imports.merge_relation",
    "billing.view_invoice",
    "billing.view_rate",
    "billing.view_mandate",
    "billing.add_mandate",
    "relations.view_changerequest",
    "relations.change_changerequest",
)

# The department administrator's ledenmodule: their department's members only.
DEPARTMENT_ADMINISTRATION = (
    *VIEW_ENVIRONMENT,
    "relations.view_relation",
    "relations.add_relation",
    "relations.change_relation",
    "relations.export_relation",
    "memberships.view_function",
    "memberships.add_function",
    "memberships.change_function",
    "tenants.use_ledenmodule",
    "intake.add_registration",
    "wizards.run_ledenmodule_wizard",
    "imports.add_importbatch",
    "billing.view_department_invoices",
    # Approving members' corrections from the portal (issue 18).
    "relations.view_changerequest",
    "relations.change_changerequest",
)

SYSTEM_ADMINISTRATION = (
    *MEMBER_ADMINISTRATION,
    "tenants.change_tenant",
    "tenants.view_user",
    "tenants.add_user",
    "tenants.change_user",
    "tenants.unblock_user",
    "tenants.view_roleassignment",
    "tenants.add_roleassignment",
    "tenants.delete_roleassignment",
    "tenants.view_auditevent",
    "relations.add_customfield",
    "relations.change_customfield",
    "relations.delete_customfield",
    "relations.add_communicationtype",
    "relations.change_communicationtype",
    "intake.view_intakeform",
    "intake.add_intakeform",
    "intake.change_intakeform",
    "notifications.add_mailtemplate",
    "notifications.change_mailtemplate",
    "wizards.add_wizard",
    "wizards.change_wizard",
    "wizards.delete_wizard",
    # Billing (SPEC B, "province system administrator … billing").
    "billing.change_billingenvironment",
    "billing.add_rate",
    "billing.change_rate",
    "billing.add_invoice",
    "billing.change_invoice",
    "billing.change_mandate",
    # API tokens of the environment (SPEC L3, api/): make, list and revoke them.
    "api.view_apitoken",
    "api.add_apitoken",
    "api.change_apitoken",
)


@dataclass(frozen=True)
class RoleDefinition:
    code: str
    label: str
    tenant_kind: str
    permissions: tuple[str, ...]


BUILTIN_ROLES = (
    RoleDefinition(
        "national_system_administrator",
        _("National system administrator"),
        TenantKind.NATIONAL,
        (*SYSTEM_ADMINISTRATION, *sorted(NATIONAL_ONLY)),
    ),
    RoleDefinition(
        "national_member_administrator",
        _("National member administrator"),
        TenantKind.NATIONAL,
        MEMBER_ADMINISTRATION,
    ),
    RoleDefinition(
        "province_system_administrator",
        _("Province system administrator"),
        TenantKind.PROVINCE,
        SYSTEM_ADMINISTRATION,
    ),
    RoleDefinition(
        "province_member_administrator",
        _("Province member administrator"),
        TenantKind.PROVINCE,
        MEMBER_ADMINISTRATION,
    ),
    RoleDefinition(
        "department_member_administrator",
        _("Department member administrator"),
        TenantKind.DEPARTMENT,
        DEPARTMENT_ADMINISTRATION,
    ),
)

BUILTIN_ROLE_LABELS = {definition.code: definition.label for definition in BUILTIN_ROLES}
