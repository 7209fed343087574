"""Forms of the relation card: the card with its custom fields and the communication log (the
first function of a new card is added by memberships.forms.RelationCreateForm). Forms validate;
services decide."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from ledenbeheer.addresses import clean_postcode
from tenants.forms import DateInput

from .models import (
    CommunicationEntry,
    CommunicationType,
    CustomField,
    CustomFieldType,
    Relation,
    RelationKind,
)
from .services import RELATION_FIELDS, custom_values_clean

COUNTRY_CHOICES = [
    ("NL", _("Netherlands")),
    ("BE", _("Belgium")),
    ("DE", _("Germany")),
    ("LU", _("Luxembourg")),
    ("FR", _("France")),
    ("GB", _("United Kingdom")),
]

YES_NO_CHOICES = [("", "—"), ("true", _("Yes")), ("false", _("No"))]


def add_service_error(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: at the field it names when the form has
    that field, above the form otherwise (never a crash over an unknown key)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        target = field if field in form.fields and field != NON_FIELD_ERRORS else None
        form.add_error(target, errors)


def custom_form_field(field: CustomField) -> forms.Field:
    """The form field for one custom field; the service checks the value again."""
    common: dict[str, Any] = {"label": field.label, "required": field.required}
    if field.field_type == CustomFieldType.NUMBER:
        return forms.CharField(max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if field.field_type == CustomFieldType.DATE:
        return forms.DateField(widget=DateInput, **common)
    if field.field_type == CustomFieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *((c, c) for c in field.choice_list)], **common)
    if field.field_type == CustomFieldType.BOOLEAN:
        # A select rather than a checkbox, so that "required" means "answered", not "yes".
        return forms.ChoiceField(choices=YES_NO_CHOICES, **common)
    return forms.CharField(max_length=500, **common)


def custom_initial(field: CustomField, value: Any) -> Any:
    if value is None:
        return None
    if field.field_type == CustomFieldType.BOOLEAN:
        return "true" if value else "false"
    return value


class RelationForm(forms.ModelForm):
    """The card's own fields plus the environment's custom fields (named extra_<code>)."""

    country = forms.ChoiceField(label=_("Country"), choices=COUNTRY_CHOICES, initial="NL")

    class Meta:
        model = Relation
        fields = list(RELATION_FIELDS)
        widgets = {
            "kind": forms.RadioSelect,
            "birth_date": DateInput,
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "mobile": forms.TextInput(attrs={"type": "tel"}),
            "postcode": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "house_number": forms.NumberInput(attrs={"min": 1}),
        }

    def __init__(self, *args, custom_fields: list[CustomField], **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_fields = custom_fields
        self.fields["kind"].choices = RelationKind.choices
        country = self.instance.country if self.instance.pk else None
        if country and country not in dict(COUNTRY_CHOICES):
            self.fields["country"].choices = [*COUNTRY_CHOICES, (country, country)]
        for field in custom_fields:
            name = f"extra_{field.code}"
            self.fields[name] = custom_form_field(field)
            if self.instance.pk:
                self.fields[name].initial = custom_initial(field, (self.instance.extra or {}).get(field.code))

    @property
    def custom_field_names(self) -> list[str]:
        return [f"extra_{field.code}" for field in self.custom_fields]

    def custom_bound_fields(self):
        return [self[name] for name in self.custom_field_names]

    def clean_birth_date(self):
        value = self.cleaned_data.get("birth_date")
        if value and value > datetime.date.today():
            raise ValidationError(_("The birth date cannot be in the future."))
        return value

    def clean(self):
        cleaned = super().clean()
        if "postcode" in cleaned and not self.has_error("postcode"):
            try:
                cleaned["postcode"] = clean_postcode(cleaned["postcode"], cleaned.get("country") or "")
            except ValidationError as error:
                self.add_error("postcode", error)
        kind = cleaned.get("kind")
        if kind == RelationKind.PERSON and not (cleaned.get("last_name") or "").strip() and not self.has_error("last_name"):
            self.add_error("last_name", _("Fill in the surname."))
        if kind == RelationKind.ORGANISATION and not (cleaned.get("organisation_name") or "").strip():
            self.add_error("organisation_name", _("Fill in the organisation name."))
        unchecked = [f for f in self.custom_fields if not self.has_error(f"extra_{f.code}")]
        try:
            custom_values_clean(unchecked, {f.code: cleaned.get(f"extra_{f.code}") for f in unchecked})
        except ValidationError as error:
            add_service_error(self, error)
        return cleaned

    def _post_clean(self):
        # The card's rules are checked above and by the service; the instance is not saved here.
        pass

    @property
    def relation_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in RELATION_FIELDS if name in self.cleaned_data}

    @property
    def extra_data(self) -> dict[str, Any]:
        return {f.code: self.cleaned_data.get(f"extra_{f.code}") for f in self.custom_fields}


class RelationRowForm(RelationForm):
    """The card's form for rows of values a program already holds (the bulk import): the same
    fields, the same clean_<field> hooks and clean(), so the same rules; only the bound field
    that a page needs for every field is not built for every row (most of the time a row took).
    One instance may serve row after row: `bind(data)`."""

    def _clean_fields(self):
        # The fields and their clean_<field> hooks, looked up once for every row.
        plan = self.__dict__.get("_row_plan")
        if plan is None:
            plan = self._row_plan = [
                (name, field, field.widget.value_from_datadict, getattr(self, f"clean_{name}", None))
                for name, field in self.fields.items()
            ]
        cleaned, data, files = self.cleaned_data, self.data, self.files
        for name, field, value_from, hook in plan:
            try:
                cleaned[name] = field.clean(value_from(data, files, name))
                if hook is not None:
                    cleaned[name] = hook()
            except ValidationError as error:
                self.add_error(name, error)

    def bind(self, data: dict[str, Any]) -> RelationRowForm:
        """Validate another row with this instance (building the form costs more than a row)."""
        self.data = data
        self._errors = None
        self._bound_fields_cache = {}
        self.__dict__.pop("cleaned_data", None)
        return self


# --- communication log -------------------------------------------------------------------------


class CommunicationFilterForm(forms.Form):
    """Filter a relation's communication log by type and period."""

    type = forms.ChoiceField(label=_("Type"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def __init__(self, *args, types: list[CommunicationType], **kwargs):
        super().__init__(*args, **kwargs)
        channels = [(c.value, c.label) for c in CommunicationEntry.Channel]
        self.fields["type"].choices = [("", _("All types")), *channels, *((f"t{t.pk}", t.name) for t in types)]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end of the period cannot be before its start."))
        return cleaned

    def filter(self, entries):
        """Apply the valid filters to a queryset of entries."""
        if not self.is_valid():
            return entries
        data = self.cleaned_data
        kind = data.get("type") or ""
        if kind.startswith("t") and kind[1:].isdigit():
            entries = entries.filter(communication_type_id=int(kind[1:]))
        elif kind:
            entries = entries.filter(channel=kind)
        if data.get("date_from"):
            entries = entries.filter(date__gte=data["date_from"])
        if data.get("date_to"):
            entries = entries.filter(date__lte=data["date_to"])
        return entries


class CommunicationEntryForm(forms.Form):
    """A manual entry in the communication log (a phone call, a visit report …)."""

    communication_type = forms.ModelChoiceField(label=_("Type"), queryset=CommunicationType.objects.none())
    date = forms.DateField(label=_("Date"), widget=DateInput, initial=datetime.date.today)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, types, type_required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["communication_type"].queryset = types
        # Until the environment defines types, entries can be added without one.
        self.fields["communication_type"].required = type_required
