"""Forms of the "Functies" tab: add, end and transfer; "+ Relatie" (the card with its first
function); the federation's cancellation reasons. Forms validate; services decide: the rules
about dates and environments live in memberships.services, and the views show their refusals on
these forms."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from relations.forms import RelationForm, add_service_error
from tenants.forms import DateInput, environment_select, function_type_select, tenant_choice_label
from tenants.models import Tenant

from . import services
from .models import CancellationReason, Function, FunctionType, NoticeRule


class FunctionForm(forms.Form):
    function_type = forms.ModelChoiceField(
        label=_("Function"), queryset=FunctionType.objects.none(), widget=function_type_select()
    )
    tenant = forms.ModelChoiceField(
        label=_("Held in"), queryset=Tenant.objects.none(), widget=environment_select("function_type")
    )
    start_date = forms.DateField(label=_("Start date"), widget=DateInput, initial=datetime.date.today)
    end_date = forms.DateField(label=_("End date"), widget=DateInput, required=False)

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["function_type"].queryset = FunctionType.objects.filter(active=True)
        self.fields["tenant"].queryset = tenants
        self.fields["tenant"].label_from_instance = tenant_choice_label



class RelationCreateForm(RelationForm):
    """"+ Relatie": the card and its first function in one form (SPEC R1/R3)."""

    function_type = forms.ModelChoiceField(
        label=_("Function"), queryset=FunctionType.objects.none(), widget=function_type_select()
    )
    tenant = forms.ModelChoiceField(
        label=_("Held in"), queryset=Tenant.objects.none(), widget=environment_select("function_type"),
        help_text=_("A department, province or the federation, matching the function."),
    )
    start_date = forms.DateField(label=_("Start date"), widget=DateInput, initial=datetime.date.today)

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["function_type"].queryset = FunctionType.objects.filter(active=True)
        self.fields["tenant"].queryset = tenants
        self.fields["tenant"].label_from_instance = tenant_choice_label


class FunctionEndForm(forms.Form):
    end_date = forms.DateField(label=_("End date"), widget=DateInput, initial=datetime.date.today)
    reason = forms.ModelChoiceField(
        label=_("Reason for ending"), queryset=CancellationReason.objects.filter(active=True), required=False,
    )
    note = forms.CharField(label=_("Explanation"), max_length=300, required=False)

    def end(self, *, actor, function: Function) -> list[Function] | None:
        """End `function` as filled in, through `services.function_end`: the functions it ended,
        or None with the service's refusal shown on the form."""
        data = self.cleaned_data
        try:
            return services.function_end(
                actor=actor, function=function, end_date=data["end_date"], reason=data["reason"], note=data["note"],
            )
        except ValidationError as error:
            add_service_error(self, error)
            return None


class FunctionDatesForm(forms.Form):
    """Correct the dates of a function entered wrongly (`services.function_dates_correct`)."""

    start_date = forms.DateField(label=_("Start date"), widget=DateInput)
    end_date = forms.DateField(
        label=_("End date"), widget=DateInput, required=False,
        help_text=_("The first day the function no longer holds; empty while it runs."),
    )

    def correct(self, *, actor, function: Function) -> Function | None:
        data = self.cleaned_data
        try:
            return services.function_dates_correct(
                actor=actor, function=function, start_date=data["start_date"], end_date=data["end_date"],
            )
        except ValidationError as error:
            add_service_error(self, error)
            return None


class MembershipsBulkEndForm(FunctionEndForm):
    """End the selected memberships at once (the search's bulk action)."""

    functions = forms.ModelMultipleChoiceField(
        label=_("Memberships to end"),
        queryset=Function.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one membership to end.")},
    )
    field_order = ["functions", "end_date", "reason", "note"]

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["functions"].queryset = memberships


class MemberTransferForm(forms.Form):
    to_department = forms.ModelChoiceField(label=_("To department"), queryset=Tenant.objects.none())
    date = forms.DateField(label=_("Transfer date"), widget=DateInput, initial=datetime.date.today,
                           help_text=_("The old membership ends and the new one starts on this date."))

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_department"].queryset = departments


class NoticeRuleForm(forms.ModelForm):
    class Meta:
        model = NoticeRule
        fields = [
            "name", "received_from_day", "received_from_month", "received_until_day", "received_until_month",
            "ends_on_day", "ends_on_month", "active",
        ]
        widgets = {
            name: forms.NumberInput(attrs={"min": 1, "max": 12 if name.endswith("month") else 31})
            for name in (
                "received_from_day", "received_from_month", "received_until_day", "received_until_month",
                "ends_on_day", "ends_on_month",
            )
        }

    def clean(self):
        cleaned = super().clean()
        for prefix in ("received_from", "received_until", "ends_on"):
            month, day = cleaned.get(f"{prefix}_month"), cleaned.get(f"{prefix}_day")
            if month is not None and not 1 <= month <= 12:
                self.add_error(f"{prefix}_month", _("A month is a number from 1 to 12."))
            if day is not None and not 1 <= day <= 31:
                self.add_error(f"{prefix}_day", _("A day is a number from 1 to 31."))
        return cleaned


class CancellationReasonForm(forms.ModelForm):
    class Meta:
        model = CancellationReason
        fields = ["name", "order", "active"]
