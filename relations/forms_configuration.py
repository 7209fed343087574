"""Forms of the configuration screens: custom fields and communication types (the cancellation
reasons are memberships')."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CommunicationType, CustomField, CustomFieldType


class CustomFieldForm(forms.ModelForm):
    class Meta:
        model = CustomField
        fields = ["label", "code", "field_type", "choices", "required", "order"]
        widgets = {"choices": forms.Textarea(attrs={"rows": 4})}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("field_type") == CustomFieldType.CHOICE and not [
            line for line in (cleaned.get("choices") or "").splitlines() if line.strip()
        ]:
            self.add_error("choices", _("A field of type Choice needs at least one choice."))
        return cleaned


class CommunicationTypeForm(forms.ModelForm):
    class Meta:
        model = CommunicationType
        fields = ["code", "name"]
