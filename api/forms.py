"""The form that makes an API token."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.forms import DateInput, tenant_choice_label
from tenants.models import Tenant

from .models import TokenScope


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. the department's own administration."))
    tenant = forms.ModelChoiceField(label=_("Environment"), queryset=Tenant.objects.none(),
                                    help_text=_("The token sees exactly what this environment shows."))
    scope = forms.ChoiceField(label=_("Scope"), choices=TokenScope.choices, initial=TokenScope.READ, widget=forms.RadioSelect)
    expires_on = forms.DateField(label=_("Valid until"), widget=DateInput,
                                 initial=lambda: datetime.date.today() + datetime.timedelta(days=365))

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants
        self.fields["tenant"].label_from_instance = tenant_choice_label
