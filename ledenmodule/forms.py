"""Forms of the ledenmodule and of the notice rules. Forms validate; services decide."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from memberships.forms import FunctionEndForm, RelationCreateForm
from memberships.models import FunctionType
from tenants.forms import DateInput
from tenants.models import Tenant

from .services import membership_types


class MembershipEndForm(FunctionEndForm):
    """Ending a membership in the ledenmodule: the reason is required (wish list 001)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = True


class KnownPersonSearchForm(forms.Form):
    """Before registering someone new: is this person known in the federation already?"""

    last_name = forms.CharField(label=_("Surname"), max_length=100, required=False)
    birth_date = forms.DateField(label=_("Birth date"), widget=DateInput, required=False)
    email = forms.EmailField(label=_("E-mail address"), required=False)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if not cleaned.get("email") and not (cleaned.get("last_name", "").strip() and cleaned.get("birth_date")):
            raise forms.ValidationError(_("Fill in the surname and the birth date, or the e-mail address."))
        return cleaned


class MemberEnrolForm(forms.Form):
    """Register a person the federation knows as a member of the department."""

    function_type = forms.ModelChoiceField(label=_("Membership"), queryset=FunctionType.objects.none())
    start_date = forms.DateField(label=_("Start date"), widget=DateInput, initial=datetime.date.today)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = membership_types()
        self.fields["function_type"].queryset = types
        self.fields["function_type"].initial = types.first()


class MemberRegistrationForm(RelationCreateForm):
    """"+ Relatie" of the ledenmodule: the card with a membership of the administrator's own
    department, the only place it can be held."""

    def __init__(self, *args, department: Tenant, **kwargs):
        super().__init__(*args, tenants=Tenant.objects.filter(pk=department.pk), **kwargs)
        types = membership_types()
        self.fields["function_type"].queryset = types
        self.fields["function_type"].label = _("Membership")
        self.fields["function_type"].initial = types.first()
        self.fields["tenant"] = forms.Field(required=False, widget=forms.HiddenInput())
        self.department = department

    def clean_tenant(self):
        # Whatever was posted: a member registered here is a member of this department.
        return self.department
