"""Use cases of intake forms and registrations (SPEC I1–I3): saving a form with its rows, a
submission landing as a registration, duplicate candidates, and accepting (relation and
membership in one step), linking or rejecting — with the status actions' mails."""

from __future__ import annotations

import contextlib
import datetime
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.services import billing_environment_covering, mandate_create
from imports.duplicates import REASONS as DUPLICATE_REASONS
from imports.duplicates import candidates_for
from ledenbeheer.addresses import clean_postcode
from memberships.card import relation_create
from memberships.models import Function
from memberships.services import function_start
from notifications.rendering import RenderedMail
from notifications.services import mail_send, template_mail_send
from notifications.tokens import TokenContext
from relations.models import Relation
from relations.services import custom_fields_for
from tenants.models import Tenant, TenantKind, User
from tenants.proxies import rate_limit_hit

from .models import IntakeForm, IntakeFormKind, IntakeFormRow, Registration, RegistrationStatus

logger = logging.getLogger(__name__)

# The card fields an intake form row can fill, in the order they are offered.
RELATION_TARGETS = (
    "initials", "first_name", "infix", "last_name", "gender", "birth_date", "email", "phone", "mobile",
    "postcode", "house_number", "house_number_suffix", "street", "city",
)
CUSTOM_PREFIX = "custom:"
# A row that asks for an IBAN and the applicant's authorisation to collect from it: accepting the
# registration records a SEPA mandate with the environment that bills the department (SPEC B3).
MANDATE_TARGET = "mandate_iban"


def target_choices(tenant: Tenant) -> list[tuple[str, str]]:
    """What a row of a form of `tenant` can fill: card fields and the custom fields there."""
    choices = [(name, str(Relation._meta.get_field(name).verbose_name).capitalize()) for name in RELATION_TARGETS]
    choices += [
        (f"{CUSTOM_PREFIX}{field.code}", _("Custom field: %(label)s") % {"label": field.label})
        for field in custom_fields_for(tenant)
    ]
    if billing_environment_covering(tenant) is not None:
        choices.append((MANDATE_TARGET, _("IBAN with a direct-debit mandate")))
    return choices


def _mandate_record(registration: Registration, relation: Relation, department: Tenant, *, actor: User) -> None:
    """The mandate the applicant gave on the form, with the environment that bills the
    department, signed on the day the form was sent. Nothing when no environment bills it."""
    iban = registration.values.get(MANDATE_TARGET)
    environment = billing_environment_covering(department) if iban else None
    if environment is not None:
        mandate_create(
            tenant=environment.tenant, relation=relation, reference="", iban=iban, actor=actor,
            signed_on=timezone.localdate(registration.submitted_at), account_holder=relation.display_name,
        )


def departments_for(intake_form: IntakeForm) -> QuerySet[Tenant]:
    """The departments an applicant may choose: the chosen ones, or every one below the form's
    environment."""
    chosen = intake_form.departments.all()
    if chosen.exists():
        return chosen.order_by("name")
    return Tenant.objects.subtree(intake_form.tenant).filter(kind=TenantKind.DEPARTMENT).order_by("name")


def department_intake_form(department: Tenant) -> IntakeForm | None:
    """The department administrators' form ("afdelingsformulier") that registers members for
    `department`: an open form of that kind in the department or above it that offers the
    department, the nearest one first. None when there is none: the ledenmodule then registers
    with the relation form."""

    forms = IntakeForm.objects.filter(
        kind=IntakeFormKind.DEPARTMENT, active=True, tenant__path__in=department.ancestor_paths(),
    ).filter(Q(departments__isnull=True) | Q(departments=department))
    return forms.distinct().order_by("-tenant__depth", "name", "pk").first()


# --- forms and their rows ------------------------------------------------------------------------


def _check_form(intake_form: IntakeForm, departments: list[Tenant], rows: list[dict[str, Any]]) -> None:
    errors: dict[str, list[str]] = {}
    function_type = intake_form.function_type
    if function_type is not None and (
        not function_type.counts_as_membership or function_type.tenant_kind != TenantKind.DEPARTMENT
    ):
        errors["function_type"] = [_("Choose a membership held in a department.")]
    outside = [d.name for d in departments if d.kind != TenantKind.DEPARTMENT or not d.is_within(intake_form.tenant)]
    if outside:
        errors["departments"] = [_("Not a department of this environment: %(names)s.") % {"names": ", ".join(outside)}]
    targets = [row["target"] for row in rows]
    valid = {value for value, _label in target_choices(intake_form.tenant)}
    unknown = sorted({t for t in targets if t not in valid})
    if unknown:
        errors["rows"] = [_("Unknown field: %(fields)s.") % {"fields": ", ".join(unknown)}]
    elif len(set(targets)) != len(targets):
        errors["rows"] = [_("Each field can be on the form only once.")]
    elif not any(row["target"] == "last_name" and row["required"] for row in rows):
        errors["rows"] = [_("The form needs a required row for the surname.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def intake_form_save(
    *, intake_form: IntakeForm, departments: list[Tenant], rows: list[dict[str, Any]]
) -> IntakeForm:
    """Save a form with its departments and rows (`order`, `label`, `target`, `required`); rows
    left out are removed, the others kept in the order given."""
    _check_form(intake_form, departments, rows)
    if not intake_form.slug:
        intake_form.slug = secrets.token_urlsafe(12)
    intake_form.full_clean()
    intake_form.save()
    intake_form.departments.set(departments)
    intake_form.rows.all().delete()
    IntakeFormRow.objects.bulk_create(
        IntakeFormRow(form=intake_form, order=row["order"], label=row["label"], target=row["target"],
                      required=row["required"])
        for row in sorted(rows, key=lambda r: r["order"])
    )
    return intake_form


# --- submissions -------------------------------------------------------------------------------


def intake_rate_limited(key: str) -> bool:
    """True when `key` (the visitor's address) sent more public forms than the limit allows in
    the window; counts this attempt."""
    return rate_limit_hit("intake", key, limit=settings.INTAKE_RATE_LIMIT, window=settings.INTAKE_RATE_WINDOW)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


@transaction.atomic
def registration_submit(
    *,
    intake_form: IntakeForm,
    values: dict[str, Any],
    department: Tenant,
    actor: User | None = None,
) -> Registration:
    """A filled-in form lands as a "new" registration in the form's environment. `values` are
    keyed by row target and already validated by the form; everything is kept as sent."""
    if not intake_form.active:
        raise ValidationError(_("This form is closed."))
    if not departments_for(intake_form).filter(pk=department.pk).exists():
        raise ValidationError({"department": _("Choose one of the departments of this form.")})
    rows = list(intake_form.rows.all())
    missing = [row.label for row in rows if row.required and values.get(row.target) in (None, "")]
    if missing:
        raise ValidationError(_("Fill in: %(labels)s.") % {"labels": ", ".join(missing)})
    stored = {row.target: _json_value(values.get(row.target)) for row in rows if values.get(row.target) not in (None, "")}
    registration = Registration.objects.create(
        form=intake_form, tenant=intake_form.tenant, department=department, submitted_by=actor,
        data={
            "values": stored,
            "rows": [[row.label, row.target, _display(stored.get(row.target))] for row in rows],
            "form_name": intake_form.name,
            "department_name": department.name,
        },
    )
    _on_new(registration, actor=actor)
    return registration


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return datetime.date.fromisoformat(value).strftime("%d-%m-%Y")
        except ValueError:
            return value
    return str(value)


def _split_values(registration: Registration) -> tuple[dict[str, Any], dict[str, Any]]:
    """The submitted values as card data and custom-field values."""
    data: dict[str, Any] = {"kind": "person"}
    extra: dict[str, Any] = {}
    for target, value in registration.values.items():
        if target.startswith(CUSTOM_PREFIX):
            extra[target[len(CUSTOM_PREFIX):]] = value
        elif target == "birth_date":
            data[target] = datetime.date.fromisoformat(value)
        elif target == "house_number":
            data[target] = int(value)
        elif target in RELATION_TARGETS:
            data[target] = value
    return data, extra


def registration_applicant(registration: Registration) -> Relation:
    """An unsaved relation made of the submission, for duplicate checks and the "new" mail."""
    data, extra = _split_values(registration)
    return Relation(tenant=registration.department, extra=extra, **data)


def registration_token_context(registration: Registration, relation: Relation | None = None, start_date=None):

    return TokenContext(
        tenant=registration.tenant, relation=relation or registration_applicant(registration),
        department=registration.department, membership_name=registration.form.function_type.name,
        start_date=start_date, registration_date=timezone.localdate(registration.submitted_at),
        registration_rows=[(label, value) for label, _target, value in registration.data.get("rows", []) if value],
    )


def _on_new(registration: Registration, *, actor: User | None) -> None:
    """Status actions of "new": the applicant gets the form's template, the holders of the
    chosen function a notice (SPEC I3)."""

    intake_form = registration.form
    email = registration.values.get("email")
    if intake_form.new_template_id and email:
        template_mail_send(
            actor=actor, tenant=registration.tenant, template=intake_form.new_template,
            context=registration_token_context(registration), to_email=email,
            reference=f"registration:{registration.pk}",
        )
    if intake_form.new_notify_function_id:
        holders = (
            Function.objects.active_on(datetime.date.today())
            .filter(function_type_id=intake_form.new_notify_function_id,
                    tenant__path__in=registration.department.ancestor_paths())
            .exclude(relation__email="")
            .select_related("relation")
        )
        # Stored and sent in the federation's language, whoever clicked.
        with translation.override(settings.LANGUAGE_CODE):
            context = {
                "registration": registration,
                "url": settings.SITE_URL + reverse("registration_detail", kwargs={"pk": registration.pk}),
            }
            subject = _("New registration: %(name)s") % {"name": registration.display_name}
            text = render_to_string("intake/email/registration_new_notice.txt", context)
        for holder in {f.relation_id: f.relation for f in holders}.values():
            try:
                mail_send(
                    actor=actor, tenant=registration.tenant, to_email=holder.email, relation=holder,
                    rendered=RenderedMail(subject=subject, text=text, html=""),
                    reference=f"registration:{registration.pk}",
                )
            except ValidationError:
                # An unusable address on an administrator's card must not cost the applicant
                # their registration; the others are still informed.
                logger.warning("Registration %s: no notice to relation %s", registration.pk, holder.pk)


# --- duplicates --------------------------------------------------------------------------------

def registration_duplicates(registration: Registration, relations: QuerySet[Relation], limit: int = 20):
    """Relations among `relations` that may be the applicant: [(relation, [reasons])], best
    first. The duplicate scan's own rules (imports.duplicates.candidates_for: the same e-mail
    address, the same birth date and a similar name, the same address and a similar name)."""
    applicant = registration_applicant(registration)
    postcode = applicant.postcode
    if postcode:
        with contextlib.suppress(ValidationError):
            postcode = clean_postcode(applicant.postcode, applicant.country)
    found = candidates_for(
        queryset=relations.select_related("tenant"), first_name=applicant.first_name, infix=applicant.infix,
        last_name=applicant.last_name, birth_date=applicant.birth_date, email=applicant.email, postcode=postcode,
        house_number=applicant.house_number,
    )
    return [(relation, [str(DUPLICATE_REASONS[key]) for key in reasons]) for relation, _score, reasons in found[:limit]]


# --- decisions ---------------------------------------------------------------------------------


def _lock_new(registration: Registration) -> Registration:
    """The registration under a row lock, refusing one that was already decided (a second click
    or a colleague was first)."""
    locked = Registration.objects.select_for_update(of=("self",)).select_related("form", "form__function_type").get(pk=registration.pk)
    if locked.status != RegistrationStatus.NEW:
        raise ValidationError(
            _("This registration has already been handled (%(status)s).") % {"status": locked.get_status_display().lower()}
        )
    return locked


def _check_department(registration: Registration, department: Tenant) -> None:
    if not departments_for(registration.form).filter(pk=department.pk).exists():
        raise ValidationError({"department": _("Choose one of the departments of this form.")})


def _decided(registration: Registration, *, actor: User, status: str) -> None:
    registration.status = status
    registration.decided_at = timezone.now()
    registration.decided_by = actor


def _accepted(registration: Registration, relation: Relation, department: Tenant, *, actor: User, start_date) -> Relation:
    """Record the acceptance and send the form's confirmation (status action "accepted")."""

    registration.relation = relation
    registration.department = department
    _decided(registration, actor=actor, status=RegistrationStatus.ACCEPTED)
    registration.save()
    _mandate_record(registration, relation, department, actor=actor)

    template = registration.form.accepted_template
    if template is not None and relation.email:
        template_mail_send(
            actor=actor, tenant=registration.tenant, template=template,
            context=registration_token_context(registration, relation=relation, start_date=start_date),
            to_email=relation.email, relation=relation, reference=f"registration:{registration.pk}",
        )
    return relation


@transaction.atomic
def registration_accept(
    *, actor: User, registration: Registration, department: Tenant, start_date: datetime.date
) -> Relation:
    """Accept ("Aannemen"): the relation card and its membership in `department`, in one
    transaction, then the confirmation mail. A second click finds the registration decided."""
    registration = _lock_new(registration)
    _check_department(registration, department)
    data, extra = _split_values(registration)
    relation = relation_create(
        actor=actor, tenant=department, data=data, extra=extra, function_type=registration.form.function_type,
        function_tenant=department, start_date=start_date,
    )
    return _accepted(registration, relation, department, actor=actor, start_date=start_date)


@transaction.atomic
def registration_link(
    *, actor: User, registration: Registration, relation: Relation, department: Tenant, start_date: datetime.date
) -> Relation:
    """Accept by linking to an existing relation (a duplicate): it gets the membership in
    `department` unless it already holds it there."""
    registration = _lock_new(registration)
    _check_department(registration, department)
    function_type = registration.form.function_type
    holds = Function.objects.not_ended(datetime.date.today()).filter(
        relation=relation, function_type=function_type, tenant=department
    ).exists()
    if not holds:
        function_start(actor=actor, relation=relation, function_type=function_type, tenant=department, start_date=start_date)
    return _accepted(registration, relation, department, actor=actor, start_date=start_date)


@transaction.atomic
def registration_reject(*, actor: User, registration: Registration, reason: str) -> Registration:
    """Reject with a reason; the submitted data stays with the registration."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for rejecting.")})
    registration = _lock_new(registration)
    registration.rejection_reason = reason.strip()[:300]
    _decided(registration, actor=actor, status=RegistrationStatus.REJECTED)
    registration.save()
    return registration
