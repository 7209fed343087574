"""The reports' choices: seasons, a department, and the breakdown to show."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .reports import BREAKDOWNS


class ReportForm(forms.Form):
    first = forms.IntegerField(label=_("From season"), required=False, min_value=1900, max_value=2999)
    last = forms.IntegerField(label=_("Up to and including season"), required=False, min_value=1900, max_value=2999)
    # A number, not a choice: a department outside the environment gets the report's own
    # message ("not part of …") rather than the form's "not one of the choices".
    department = forms.IntegerField(label=_("Department"), required=False, min_value=1)


class FlowForm(ReportForm):
    by = forms.ChoiceField(label=_("Breakdown"), required=False, choices=list(BREAKDOWNS.items()))
    season = forms.IntegerField(label=_("Breakdown for season"), required=False, min_value=1900, max_value=2999)


class WidgetVisibilityForm(forms.Form):
    key = forms.SlugField(max_length=60)
    visible = forms.BooleanField(required=False)
