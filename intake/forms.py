"""Forms of intake forms and registrations. Forms validate; intake/services.py decides."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from billing.services import billing_environment_covering, iban_clean
from ledenbeheer.addresses import clean_postcode
from memberships.models import FunctionType
from relations.forms import custom_form_field
from relations.models import Gender, Relation
from relations.services import custom_fields_for
from tenants.forms import DateInput, tenant_choice_label
from tenants.models import Tenant, TenantKind

from .models import IntakeForm
from .services import CUSTOM_PREFIX, MANDATE_TARGET


class IntakeFormForm(forms.ModelForm):
    """The settings of an intake form: kind, texts, membership, departments, status actions."""

    class Meta:
        model = IntakeForm
        fields = [
            "name", "kind", "active", "introduction", "privacy_statement", "function_type", "departments",
            "new_template", "new_notify_function", "accepted_template",
        ]
        widgets = {
            "introduction": forms.Textarea(attrs={"rows": 3}),
            "privacy_statement": forms.Textarea(attrs={"rows": 4}),
            "departments": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, tenant: Tenant, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.tenant = tenant
        self.fields["function_type"].queryset = FunctionType.objects.filter(
            active=True, counts_as_membership=True, tenant_kind=TenantKind.DEPARTMENT
        )
        departments = Tenant.objects.subtree(tenant).filter(kind=TenantKind.DEPARTMENT).order_by("path")
        self.fields["departments"].queryset = departments
        self.fields["departments"].label_from_instance = tenant_choice_label
        self.fields["new_notify_function"].queryset = FunctionType.objects.filter(active=True)
        self.fields["new_template"].queryset = templates
        self.fields["accepted_template"].queryset = templates


class IntakeFormRowForm(forms.Form):
    order = forms.IntegerField(label=_("Row"), min_value=0, max_value=999)
    label = forms.CharField(label=_("Text"), max_length=200)
    target = forms.ChoiceField(label=_("Field"))
    required = forms.BooleanField(label=_("Required"), required=False)

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "—"), *targets]
        # The rows are a table: each input is named by its column for screen readers.
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = field.label


class BaseRowFormSet(forms.BaseFormSet):
    def rows(self) -> list[dict]:
        """The rows to keep: filled in and not ticked for removal."""
        return [
            form.cleaned_data for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


IntakeFormRowFormSet = forms.formset_factory(
    IntakeFormRowForm, formset=BaseRowFormSet, extra=2, can_delete=True, max_num=60, validate_max=True
)


# --- filling in a form ---------------------------------------------------------------------------


def _field_for(target: str, label: str, required: bool, custom_fields: dict) -> forms.Field:
    common = {"label": label, "required": required}
    if target.startswith(CUSTOM_PREFIX):
        field = custom_form_field(custom_fields[target[len(CUSTOM_PREFIX):]])
        field.label, field.required = label, required
        return field
    if target == "birth_date":
        return forms.DateField(widget=DateInput, **common)
    if target == "email":
        return forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}), **common)
    if target == "gender":
        return forms.ChoiceField(choices=[("", "—"), *((v, lbl) for v, lbl in Gender.choices if v)], **common)
    if target == "house_number":
        return forms.IntegerField(min_value=1, max_value=99999, **common)
    if target == MANDATE_TARGET:
        return forms.CharField(max_length=42, widget=forms.TextInput(attrs={"autocomplete": "off"}), **common)
    max_length = Relation._meta.get_field(target).max_length
    attrs = {"postcode": {"autocomplete": "postal-code"}, "phone": {"type": "tel"}, "mobile": {"type": "tel"}}
    return forms.CharField(max_length=max_length, widget=forms.TextInput(attrs=attrs.get(target, {})), **common)


def field_name(target: str) -> str:
    return "f_" + target.replace(":", "__")


class IntakeSubmissionForm(forms.Form):
    """An intake form as the applicant sees it: its rows in order, the department, the privacy
    statement and an invisible honeypot field."""

    # Hidden from people (CSS and aria-hidden); bots that fill in every field fill this one.
    homepage = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args, intake_form: IntakeForm, departments, public: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.intake_form = intake_form
        self.rows = list(intake_form.rows.all())
        custom = {field.code: field for field in custom_fields_for(intake_form.tenant)}
        for row in self.rows:
            if row.target.startswith(CUSTOM_PREFIX) and row.target[len(CUSTOM_PREFIX):] not in custom:
                continue  # the custom field was removed after the row was made
            self.fields[field_name(row.target)] = _field_for(row.target, row.label, row.required, custom)
        if field_name(MANDATE_TARGET) in self.fields:
            environment = billing_environment_covering(intake_form.tenant)
            self.fields["mandate_consent"] = forms.BooleanField(
                required=False,
                label=_("I authorise %(creditor)s to collect what I owe from this account by SEPA direct debit, "
                        "and my bank to debit it. I can have a collection refunded within 8 weeks.")
                % {"creditor": environment.creditor_name if environment else intake_form.tenant.name},
            )
        self.fields["department"] = forms.ModelChoiceField(
            label=_("Department"), queryset=departments, empty_label="—",
            initial=departments.first().pk if departments.count() == 1 else None,
        )
        if public:
            self.fields["privacy"] = forms.BooleanField(
                label=_("I have read the privacy statement and agree to it."), required=True,
                error_messages={"required": _("Agree to the privacy statement to send the form.")},
            )
        else:
            del self.fields["homepage"]

    def clean(self):
        cleaned = super().clean()
        postcode_name = field_name("postcode")
        if cleaned.get(postcode_name):
            try:
                cleaned[postcode_name] = clean_postcode(cleaned[postcode_name], "NL")
            except ValidationError as error:
                self.add_error(postcode_name, error)
        iban_name = field_name(MANDATE_TARGET)
        if iban_name in self.fields:
            if cleaned.get(iban_name):
                try:
                    cleaned[iban_name] = iban_clean(cleaned[iban_name], field_name=iban_name)[0]
                except ValidationError as error:
                    self.add_error(None, error)
                if not cleaned.get("mandate_consent"):
                    self.add_error("mandate_consent", _(
                        "Give the authorisation to collect from this account, or leave the IBAN empty."
                    ))
            elif cleaned.get("mandate_consent"):
                self.add_error(iban_name, _("Fill in the account (IBAN) to collect from."))
        birth_name = field_name("birth_date")
        if cleaned.get(birth_name) and cleaned[birth_name] > datetime.date.today():
            self.add_error(birth_name, _("The birth date cannot be in the future."))
        return cleaned

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("homepage"))

    def values(self) -> dict:
        """The answers keyed by row target."""
        return {
            row.target: self.cleaned_data.get(field_name(row.target))
            for row in self.rows if field_name(row.target) in self.fields
        }


# --- deciding on a registration ------------------------------------------------------------------


class RegistrationAcceptForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Department"), queryset=Tenant.objects.none())
    start_date = forms.DateField(label=_("Membership starts on"), widget=DateInput, initial=datetime.date.today)

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments


class RegistrationLinkForm(RegistrationAcceptForm):
    relation = forms.TypedChoiceField(label=_("Existing relation"), coerce=int)
    field_order = ["relation", "department", "start_date"]

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["relation"].choices = [(r.pk, f"{r.sort_name} ({r.number})") for r, _reasons in candidates]


class RegistrationRejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


def row_initial(intake_form: IntakeForm) -> list[dict]:
    return [
        {"order": row.order, "label": row.label, "target": row.target, "required": row.required}
        for row in intake_form.rows.all()
    ]

