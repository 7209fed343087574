"""Forms of mail templates and personalised documents. Forms validate; services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from relations.services import communication_types_for
from tenants.forms import logo_clean

from .models import MailTemplate


class MailTemplateForm(forms.ModelForm):
    class Meta:
        model = MailTemplate
        fields = [
            "name", "logo", "header", "body_1", "body_2", "body_3", "body_4", "body_5", "footer",
            "email_subject", "email_text", "attach_pdf", "pdf_filename", "communication_type",
        ]
        widgets = {
            **{name: forms.Textarea(attrs={"rows": 3}) for name in ("header", "body_2", "body_3", "body_4", "body_5", "footer")},
            "body_1": forms.Textarea(attrs={"rows": 6}),
            "email_text": forms.Textarea(attrs={"rows": 8}),
            "logo": forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
        }

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.tenant = tenant
        self.fields["communication_type"].queryset = communication_types_for(tenant)

    def clean_logo(self):
        return logo_clean(self.cleaned_data.get("logo"))


class DocumentsForm(forms.Form):
    """Personalised documents for the relations selected in the search (SPEC I5)."""

    template = forms.ModelChoiceField(label=_("Template"), queryset=MailTemplate.objects.none())
    by_email = forms.BooleanField(
        label=_("Send by e-mail to relations with an e-mail address"), required=False,
        help_text=_("The others get the letter in their communication log, to print."),
    )

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
