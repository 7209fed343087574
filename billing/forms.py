"""Forms of billing: they validate the input; the services decide."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from memberships.models import FunctionType
from notifications.services import templates_for
from tenants.forms import DateInput

from .models import BillingEnvironment, InvoiceStatus, Rate, RunKind

MAX_UPLOAD = 50 * 1024 * 1024


class BillingEnvironmentForm(forms.ModelForm):
    class Meta:
        model = BillingEnvironment
        fields = [
            "creditor_name", "iban", "bic", "creditor_id", "season_start_day", "season_start_month",
            "payment_term_days", "collection_lead_days", "reminder_days", "reminder_template", "invoice_template",
            "reversal_flag_count",
        ]

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        usable = templates_for(tenant)
        self.fields["reminder_template"].queryset = usable
        self.fields["invoice_template"].queryset = usable
        self.fields["season_start_month"].widget = forms.NumberInput(attrs={"min": 1, "max": 12})
        self.fields["season_start_day"].widget = forms.NumberInput(attrs={"min": 1, "max": 31})


def membership_types():
    return FunctionType.objects.filter(counts_as_membership=True, active=True)


class RateForm(forms.ModelForm):
    class Meta:
        model = Rate
        fields = ["function_type", "season_start", "name", "age_from", "age_to", "amount", "vat_code", "ledger_account"]
        widgets = {"season_start": DateInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["function_type"].queryset = membership_types().exclude(category="aspirant")


class InvoiceRunForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Invoice"), choices=RunKind.choices, initial=RunKind.MEMBERS)
    reference_date = forms.DateField(label=_("Reference date"), widget=DateInput,
                                     help_text=_("Memberships active on this day are invoiced."))
    invoice_date = forms.DateField(label=_("Invoice date"), widget=DateInput, initial=datetime.date.today)
    function_types = forms.ModelMultipleChoiceField(
        label=_("Memberships"), queryset=FunctionType.objects.none(), widget=forms.CheckboxSelectMultiple,
    )
    pro_rata = forms.BooleanField(label=_("Pro rata for members who joined during the season"), required=False)
    send_email = forms.BooleanField(label=_("Send the invoices by e-mail"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["function_types"].queryset = membership_types()


class CreditNoteForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount to credit"), max_digits=12, decimal_places=2, min_value=0)
    reason = forms.CharField(label=_("Reason"), max_length=200)


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2, min_value=0)
    date = forms.DateField(label=_("Date"), widget=DateInput, initial=datetime.date.today)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class WriteOffForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False,
                        widget=forms.TextInput(attrs={"placeholder": _("Number or name"), "type": "search"}))
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *InvoiceStatus.choices])
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("All")), ("invoice", _("Invoices")), ("credit_note", _("Credit notes"))])


class MandateForm(forms.Form):
    iban = forms.CharField(label=_("IBAN"), max_length=42)
    account_holder = forms.CharField(label=_("Account holder"), max_length=70, required=False)
    signed_on = forms.DateField(label=_("Date signed"), widget=DateInput)
    reference = forms.CharField(label=_("Mandate reference"), max_length=35, required=False,
                                help_text=_("Empty: one is made."))


class CollectionBatchForm(forms.Form):
    collection_date = forms.DateField(label=_("Collection date"), widget=DateInput)
    schema = forms.ChoiceField(label=_("Format"), choices=[
        ("pain.008.001.02", _("pain.008.001.02 (Dutch banks)")), ("pain.008.001.08", "pain.008.001.08"),
    ])


class BankStatementForm(forms.Form):
    file = forms.FileField(label=_("Bank statement (CAMT.053, XML)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("This file is too large for a bank statement."))
        return upload


class EntryMatchForm(forms.Form):
    number = forms.CharField(label=_("Invoice number"), max_length=20)


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=DateInput)
    date_to = forms.DateField(label=_("Up to and including"), widget=DateInput)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError(_("The period ends before it begins."))
        return cleaned
