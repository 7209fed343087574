"""Forms of the data-quality screens: the error-list filter and error-report recipients."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ErrorReportRecipient
from .retention import MAX_YEARS


class RecipientForm(forms.ModelForm):
    class Meta:
        model = ErrorReportRecipient
        fields = ["email", "active"]
        labels = {"active": _("Active")}
        help_texts = {"active": _("Only active addresses receive the error reports.")}


class ProblemFilterForm(forms.Form):
    rule = forms.ChoiceField(label=_("Check"), required=False)
    department = forms.TypedChoiceField(label=_("Department"), required=False, coerce=int, empty_value=None)

    def __init__(self, data, *, rules, departments):
        super().__init__(data)
        self.fields["rule"].choices = [("", _("All checks")), *[(r.code, r.description) for r in rules]]
        self.fields["department"].choices = [("", _("All departments")), *[(d.pk, d.name) for d in departments]]


class RetentionForm(forms.Form):
    years = forms.IntegerField(
        label=_("Anonymise former members this many years after their last function ended"),
        required=False, min_value=1, max_value=MAX_YEARS,
        help_text=_("Leave empty to never anonymise automatically."),
    )
