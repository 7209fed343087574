"""Forms of the import: the upload, the column mapping with the choices for the whole file, and
the merge of two cards. Forms validate; services decide."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from relations.services import RELATION_FIELDS
from tenants.forms import DateInput, tenant_choice_label

from .columns import Target
from .reading import ENCODING_LABELS, MAX_UPLOAD_BYTES


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("A CSV file or an Excel workbook (.xlsx), at most 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB; split it into smaller files."))
        return upload


class MappingForm(forms.Form):
    """One choice per column of the file, then what holds for every row."""

    encoding = forms.ChoiceField(label=_("Character set"), required=False, choices=list(ENCODING_LABELS.items()))
    sheet = forms.ChoiceField(label=_("Sheet"), required=False)
    function_type = forms.ModelChoiceField(
        label=_("Membership"), required=False, queryset=None,
        help_text=_("For rows without a membership column."),
    )
    department = forms.ModelChoiceField(
        label=_("Department"), required=False, queryset=None,
        help_text=_("For rows without a department column."),
    )
    start_date = forms.DateField(
        label=_("Start date"), required=False, widget=DateInput, initial=datetime.date.today,
        help_text=_("For rows without a start date."),
    )
    update_fields = forms.MultipleChoiceField(
        label=_("Fields to update on matching cards"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every filled cell."),
    )

    def __init__(self, *args, headers: list[str], targets: list[Target], sheets: list[str],
                 departments, membership_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = [("", _("(do not import)")), *((t.key, t.label) for t in targets)]
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or _("Column %(number)s") % {"number": index + 1}, choices=choices, required=False,
            )
        if sheets and len(sheets) > 1:
            self.fields["sheet"].choices = [(s, s) for s in sheets]
        else:
            del self.fields["sheet"]
        self.fields["function_type"].queryset = membership_types
        self.fields["department"].queryset = departments
        self.fields["department"].label_from_instance = tenant_choice_label
        self.fields["update_fields"].choices = [
            (t.key, t.label) for t in targets if t.key in RELATION_FIELDS or t.key.startswith("extra:")
        ]

    @property
    def column_fields(self):
        return [self[f"col_{index}"] for index in range(len(self.headers))]

    @property
    def mapping(self) -> dict[str, str]:
        return {str(i): self.cleaned_data[f"col_{i}"] for i in range(len(self.headers)) if self.cleaned_data.get(f"col_{i}")}

    @property
    def options(self) -> dict:
        data = self.cleaned_data
        return {
            "function_type": data["function_type"].pk if data.get("function_type") else None,
            "department": data["department"].pk if data.get("department") else None,
            "start_date": data["start_date"].isoformat() if data.get("start_date") else None,
            "update_fields": list(data.get("update_fields") or []),
        }
