"""Forms of the wizards: the run's parameters, the editor (name and fields), a copy's name, and the
mutation list's choices. Forms validate; the services decide."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from memberships.models import FunctionCategory
from relations.filters import BOOLEAN, CHOICE, DATE, parse_date
from tenants.forms import DATE_DISPLAY_FORMAT, DateInput
from tenants.models import Tenant

from .catalogue import CatalogueField, Filter
from .models import FilterMode, Wizard, WizardField
from .runs import RunParameters, saved_filter
from .services import field_filter_clean


def _date_input(**attrs) -> forms.DateInput:
    return DateInput(attrs)


def _date_text(day: datetime.date) -> str:
    return day.strftime(DATE_DISPLAY_FORMAT)


class DateText(forms.CharField):
    """A date typed as dd-mm-jjjj or picked (ISO); a clear Dutch message otherwise."""

    widget = _date_input()

    def to_python(self, value: Any) -> datetime.date | None:
        value = super().to_python(value)
        if not value:
            return None
        try:
            return parse_date(value)
        except ValueError:
            raise ValidationError(_("“%(value)s” is not a date; write it as dd-mm-yyyy."), params={"value": value}) from None


class WizardRunForm(forms.Form):
    """What a run asks: the reference date, a part of the environment, whether inactive relations
    count, and the filters of the wizard's "ask when run" fields."""

    day = DateText(label=gettext_lazy("Reference date"))
    part = forms.ModelChoiceField(
        label=gettext_lazy("Part of the environment"), queryset=Tenant.objects.none(), required=False,
        empty_label=gettext_lazy("The whole environment"),
    )
    include_inactive = forms.BooleanField(label=gettext_lazy("Include inactive relations"), required=False)

    def __init__(self, *args, wizard: Wizard, tenant: Tenant, fields: list[WizardField],
                 catalogue: dict[str, CatalogueField], **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["day"].initial = _date_text(datetime.date.today())
        self.fields["include_inactive"].initial = wizard.include_inactive
        parts = Tenant.objects.subtree(tenant).exclude(pk=tenant.pk).order_by("path")
        self.fields["part"].queryset = parts
        self.asked: list[tuple[WizardField, CatalogueField]] = []
        for wf in fields:
            if not wf.ask or not wf.mode or wf.field_key not in catalogue:
                continue
            cf = catalogue[wf.field_key]
            self.asked.append((wf, cf))
            self._add_asked_field(wf, cf)

    @property
    def has_parts(self) -> bool:
        return self.fields["part"].queryset.exists()

    def _add_asked_field(self, wf: WizardField, cf: CatalogueField) -> None:
        label = wf.label or cf.label
        name = f"ask_{wf.pk}"
        try:
            saved = saved_filter(wf, cf)
        except ValidationError:
            saved = Filter(wf.mode)
        if wf.mode == FilterMode.RANGE:
            low, high = saved.low, saved.high
            if cf.kind == DATE and low is None and high is None:
                today = datetime.date.today()
                low, high = today.replace(month=1, day=1), today
            self.fields[name] = self._input(cf, f"{label} ({_('from')})", low)
            self.fields[f"{name}_to"] = self._input(cf, f"{label} ({_('to')})", high)
            return
        choices = self._choices(cf)
        if wf.mode == FilterMode.ONE_OF and choices:
            self.fields[name] = forms.MultipleChoiceField(
                label=label, choices=choices, required=False, initial=[str(v) for v in saved.values],
                widget=forms.SelectMultiple(attrs={"size": min(8, len(choices))}),
            )
        elif choices:
            self.fields[name] = forms.ChoiceField(
                label=label, choices=[("", "—"), *choices], required=False,
                initial=str(saved.values[0]) if saved.values else "",
            )
        elif wf.mode == FilterMode.ONE_OF:
            self.fields[name] = forms.CharField(
                label=label, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                initial="\n".join(cf.display(v) for v in saved.values), help_text=_("One value per line."),
            )
        else:
            self.fields[name] = self._input(cf, label, saved.values[0] if saved.values else None)

    @staticmethod
    def _choices(cf: CatalogueField) -> list[tuple[str, str]]:
        if cf.kind == CHOICE:
            return [(str(code), str(label)) for code, label in cf.choices]
        if cf.kind == BOOLEAN:
            return [("yes", _("Yes")), ("no", _("No"))]
        return []

    @staticmethod
    def _input(cf: CatalogueField, label: str, initial: Any) -> forms.Field:
        if cf.kind == DATE:
            return forms.CharField(label=label, required=False, widget=_date_input(),
                                   initial=_date_text(initial) if initial else "")
        return forms.CharField(label=label, required=False, initial="" if initial is None else cf.display(initial))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        asked: dict[int, Filter] = {}
        for wf, cf in self.asked:
            name = f"ask_{wf.pk}"
            try:
                asked[wf.pk] = self._asked_filter(wf, cf, name)
            except ValidationError as error:
                for key, messages in error.message_dict.items():
                    self.add_error(key, messages)
        cleaned["asked"] = asked
        return cleaned

    def _parse(self, cf: CatalogueField, name: str, raw: str) -> Any:
        try:
            return cf.parse(raw)
        except ValidationError as error:
            raise ValidationError({name: error.messages}) from None

    def _asked_filter(self, wf: WizardField, cf: CatalogueField, name: str) -> Filter:
        raw = self.cleaned_data.get(name)
        if wf.mode == FilterMode.RANGE:
            raw_to = self.cleaned_data.get(f"{name}_to") or ""
            low = self._parse(cf, name, raw) if (raw or "").strip() else None
            high = self._parse(cf, f"{name}_to", raw_to) if raw_to.strip() else None
            if low is not None and high is not None and low > high:
                raise ValidationError({f"{name}_to": _("The end of the range lies before its start.")})
            return Filter(wf.mode, (), low, high)
        if isinstance(raw, list):
            values = raw
        else:
            values = [line for line in (raw or "").splitlines() if line.strip()]
        return Filter(wf.mode, tuple(self._parse(cf, name, v) for v in values))

    def parameters(self) -> RunParameters:
        data = self.cleaned_data
        return RunParameters(day=data["day"], part=data.get("part"), include_inactive=data["include_inactive"],
                             asked=data["asked"])


class WizardForm(forms.ModelForm):
    class Meta:
        model = Wizard
        fields = ["name", "description", "include_inactive"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class WizardFieldForm(forms.Form):
    """One row of the editor's field list."""

    field_key = forms.CharField(widget=forms.HiddenInput)
    order = forms.IntegerField(label=gettext_lazy("Order"), min_value=0, max_value=100000)
    label = forms.CharField(label=gettext_lazy("Own label"), required=False, max_length=100)
    mode = forms.ChoiceField(label=gettext_lazy("Filter"), choices=FilterMode.choices, required=False)
    value = forms.CharField(label=gettext_lazy("Value"), required=False, widget=forms.Textarea(attrs={"rows": 1}))
    value_to = forms.CharField(label=gettext_lazy("to"), required=False, max_length=100)
    ask = forms.BooleanField(label=gettext_lazy("Ask when run"), required=False)
    shown = forms.BooleanField(label=gettext_lazy("Column"), required=False)

    def __init__(self, *args, catalogue: dict[str, CatalogueField], **kwargs):
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue
        for name, form_field in self.fields.items():
            form_field.widget.attrs.setdefault("aria-label", str(form_field.label or name))
        key = self.data.get(self.add_prefix("field_key")) if self.is_bound else self.initial.get("field_key")
        self.catalogue_field = catalogue.get(key or "")
        if self.catalogue_field is not None:
            allowed = set(self.catalogue_field.modes)
            self.fields["mode"].choices = [(c, label) for c, label in FilterMode.choices if not c or c in allowed]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.catalogue_field is None:
            raise ValidationError(_("This field no longer exists; remove it."))
        if cleaned.get("DELETE") or "mode" not in cleaned:
            return cleaned
        try:
            field_filter_clean(self.catalogue_field, mode=cleaned["mode"], value=cleaned.get("value", ""),
                               value_to=cleaned.get("value_to", ""))
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                self.add_error(key if key != "__all__" else None, messages)
        return cleaned


class BaseWizardFieldFormSet(forms.BaseFormSet):
    def __init__(self, *args, catalogue: dict[str, CatalogueField], **kwargs):
        self.catalogue = catalogue
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "catalogue": self.catalogue}

    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        form.fields["DELETE"].label = _("Remove")
        form.fields["DELETE"].widget.attrs["aria-label"] = _("Remove")

    def clean(self) -> None:
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not any(f.cleaned_data.get("shown") for f in kept):
            raise ValidationError(_("A wizard needs at least one field shown as a column."))

    def rows(self) -> list[dict[str, Any]]:
        kept = [f.cleaned_data for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        return sorted(kept, key=lambda row: row["order"])


WizardFieldFormSet = forms.formset_factory(
    WizardFieldForm, formset=BaseWizardFieldFormSet, extra=0, can_delete=True
)


def field_rows_initial(fields: list[WizardField], catalogue: dict[str, CatalogueField]) -> list[dict[str, Any]]:
    """The saved fields as the editor shows them (choices by their label, dates dd-mm-jjjj)."""
    rows = []
    for wf in fields:
        cf = catalogue.get(wf.field_key)
        value, value_to = wf.value, wf.value_to
        if cf is not None:
            value = "\n".join(_readable(cf, v) for v in wf.value.splitlines() if v.strip())
            value_to = _readable(cf, value_to) if value_to else ""
        rows.append({"field_key": wf.field_key, "order": wf.order, "label": wf.label, "mode": wf.mode,
                     "value": value, "value_to": value_to, "ask": wf.ask, "shown": wf.shown})
    return rows


def _readable(cf: CatalogueField, stored: str) -> str:
    try:
        return cf.display(cf.parse(stored))
    except ValidationError:
        return stored


class WizardCopyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name of the copy"), max_length=120)


class MutationListForm(forms.Form):
    KINDS = (
        ("sign_up", gettext_lazy("Sign-ups")),
        ("cancellation", gettext_lazy("Cancellations")),
        ("change", gettext_lazy("Other changes")),
    )

    category = forms.MultipleChoiceField(
        label=gettext_lazy("Relation type"), choices=FunctionCategory.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=gettext_lazy("None chosen: every relation type."),
    )
    date_from = DateText(label=gettext_lazy("From"))
    date_to = DateText(label=gettext_lazy("To"))
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Show"), choices=KINDS, required=False, widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None chosen: all of them."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        low, high = cleaned.get("date_from"), cleaned.get("date_to")
        if low and high and low > high:
            self.add_error("date_to", _("The end of the range lies before its start."))
        if low and high and (high - low).days > 3660:
            self.add_error("date_to", _("Choose a period of at most ten years."))
        return cleaned
