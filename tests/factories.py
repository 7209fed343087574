"""Factories for the test suite: the one place that knows how to make test data."""

from __future__ import annotations

import datetime

import factory

from relations.models import Relation
from tenants.models import Role, RoleAssignment, Tenant, TenantKind, User
from tenants.services import tenant_create


def make_tenant_tree() -> dict[str, Tenant]:
    """The fixed test federation: national, 2 provinces, 2 departments each."""
    national = tenant_create(parent=None, kind=TenantKind.NATIONAL, name="Testfederatie")
    tree = {"national": national}
    for p in (1, 2):
        province = tenant_create(parent=national, kind=TenantKind.PROVINCE, name=f"Provincie {p}")
        tree[f"province{p}"] = province
        for d in (1, 2):
            tree[f"department{p}{d}"] = tenant_create(
                parent=province, kind=TenantKind.DEPARTMENT, name=f"Afdeling {p}.{d}"
            )
    return {
        key: Tenant.objects.get(pk=t.pk) for key, t in tree.items()
    }


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Gebruiker {n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


def give_role(
    user: User,
    tenant: Tenant,
    role_code: str,
    start_date: datetime.date | None = None,
    end_date: datetime.date | None = None,
) -> RoleAssignment:
    return RoleAssignment.objects.create(
        user=user,
        tenant=tenant,
        role=Role.objects.get(code=role_code),
        start_date=start_date or datetime.date.today() - datetime.timedelta(days=30),
        end_date=end_date,
    )


# --- relations and functions -------------------------------------------------------------------


def make_relation(tenant: Tenant, *, actor: User | None = None, function_code: str = "department_member",
                  function_tenant: Tenant | None = None, start_date: datetime.date | None = None,
                  **data) -> Relation:
    """A relation card made the way the app makes one: through the service, with a first
    function (a department membership in `tenant` unless told otherwise)."""
    from memberships.card import relation_create
    from memberships.models import FunctionType

    defaults = {"first_name": "Jan", "last_name": "Jansen", "kind": "person"}
    defaults.update(data)
    return relation_create(
        actor=actor, tenant=tenant, data=defaults, extra=data.pop("extra", None),
        function_type=FunctionType.objects.get(code=function_code),
        function_tenant=function_tenant or tenant,
        start_date=start_date or datetime.date.today() - datetime.timedelta(days=100),
    )


def give_function(relation: Relation, tenant: Tenant, code: str, *, start_date: datetime.date | None = None,
                  end_date: datetime.date | None = None, actor: User | None = None):
    from memberships.models import FunctionType
    from memberships.services import function_start

    function_type = FunctionType.objects.get(code=code)
    if start_date is None:
        # A function that grants a role never starts in the past (memberships.services).
        start_date = datetime.date.today() - datetime.timedelta(days=0 if function_type.grants_role_id else 30)
    return function_start(
        actor=actor, relation=relation, function_type=function_type, tenant=tenant,
        start_date=start_date, end_date=end_date,
    )


# --- intake forms and mail templates -----------------------------------------------------------

INTAKE_ROWS = [
    # order, label, target, required
    (10, "Voornaam", "first_name", True),
    (20, "Tussenvoegsel", "infix", False),
    (30, "Achternaam", "last_name", True),
    (40, "Geboortedatum", "birth_date", True),
    (50, "E-mailadres", "email", True),
    (60, "Postcode", "postcode", False),
    (70, "Huisnummer", "house_number", False),
]


def make_intake_form(tenant: Tenant, *, name: str = "Inschrijfform_nieuw", kind: str = "public", rows=INTAKE_ROWS,
                     departments=(), **fields):
    """An intake form saved the way the settings page saves one."""
    from intake.models import IntakeForm
    from intake.services import intake_form_save
    from memberships.models import FunctionType

    intake_form = IntakeForm(
        tenant=tenant, name=name, kind=kind, privacy_statement="We gebruiken je gegevens alleen voor je lidmaatschap.",
        function_type=FunctionType.objects.get(code="department_member"), **fields,
    )
    return intake_form_save(
        intake_form=intake_form, departments=list(departments),
        rows=[{"order": o, "label": label, "target": t, "required": r} for o, label, t, r in rows],
    )


def make_mail_template(tenant: Tenant, *, name: str = "Nieuw lid (inschrijving)", **fields):
    from notifications.models import MailTemplate
    from notifications.services import mail_template_save

    defaults = {
        "email_subject": "Welkom [firstname]", "email_text": "Beste [firstname],\n\nWelkom bij [department].",
        "body_1": "Beste [fullname],\n\nJe bent lid van [department] sinds [startdate].",
        "footer": "[organisation]", "attach_pdf": True, "pdf_filename": "bevestiging",
    }
    defaults.update(fields)
    return mail_template_save(template=MailTemplate(tenant=tenant, name=name, **defaults))


# --- selection wizards ---------------------------------------------------------------------------


def make_wizard(tenant: Tenant | None, *fields: dict, name: str = "Testwizard", section: str = "other",
                include_inactive: bool = False):
    """A wizard owned by `tenant` with `fields`, each a dict of WizardField values (at least
    `field_key`); the order follows the arguments."""
    from wizards.models import Wizard, WizardField

    wizard = Wizard.objects.create(tenant=tenant, name=name, section=section, include_inactive=include_inactive)
    for index, values in enumerate(fields):
        WizardField.objects.create(wizard=wizard, order=(index + 1) * 10, **values)
    return wizard


# --- API tokens ----------------------------------------------------------------------------------


def make_api_token(tenant: Tenant, *, actor: User, scope: str = "read", name: str = "Koppeling",
                   expires_on: datetime.date | None = None):
    """An API token made the way the token screen makes one; returns (token, secret)."""
    from api.services import token_create

    new = token_create(
        actor=actor, tenant=tenant, name=name, scope=scope,
        expires_on=expires_on or datetime.date.today() + datetime.timedelta(days=30),
    )
    return new.token, new.secret
