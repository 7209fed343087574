"""Forms of the member portal. Forms validate; the services (relations.services for the card)
decide."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ledenbeheer.addresses import clean_postcode
from relations.forms import COUNTRY_CHOICES
from relations.models import Relation

# What a member corrects on their own card: contact data and address (SPEC L2).
CONTACT_FIELDS = (
    "email",
    "phone",
    "mobile",
    "postcode",
    "house_number",
    "house_number_suffix",
    "street",
    "city",
    "country",
)


class LoginLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class ContactForm(forms.ModelForm):
    """The member's contact data and address, with the card's own checks (the service checks
    them again)."""

    country = forms.ChoiceField(label=_("Country"), choices=COUNTRY_CHOICES, initial="NL")

    class Meta:
        model = Relation
        fields = list(CONTACT_FIELDS)
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "mobile": forms.TextInput(attrs={"type": "tel"}),
            "postcode": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "house_number": forms.NumberInput(attrs={"min": 1}),
            "street": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        country = self.instance.country if self.instance.pk else None
        if country and country not in dict(COUNTRY_CHOICES):
            self.fields["country"].choices = [*COUNTRY_CHOICES, (country, country)]
        # A member reaches the portal through their e-mail address: it cannot be emptied here.
        self.fields["email"].required = True

    def clean(self):
        cleaned = super().clean()
        if "postcode" in cleaned and not self.has_error("postcode"):
            try:
                cleaned["postcode"] = clean_postcode(
                    cleaned["postcode"], cleaned.get("country") or ""
                )
            except ValidationError as error:
                self.add_error("postcode", error)
        return cleaned

    def _post_clean(self):
        # The card's rules are checked by the service; the instance is not saved here.
        pass

    @property
    def changed_data_values(self) -> dict:
        return {
            name: self.cleaned_data[name] for name in CONTACT_FIELDS if name in self.cleaned_data
        }


class PreferencesForm(forms.Form):
    """One yes/no per communication type: may the federation send me this?"""

    def __init__(self, *args, types, refused: set[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.types = list(types)
        for communication_type in self.types:
            self.fields[f"type_{communication_type.pk}"] = forms.BooleanField(
                label=communication_type.name,
                required=False,
                initial=communication_type.pk not in refused,
            )

    @property
    def refused_ids(self) -> set[int]:
        return {t.pk for t in self.types if not self.cleaned_data.get(f"type_{t.pk}")}
