"""Forms of the tenants app. Forms validate input; services decide."""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from stdnum import iban as stdnum_iban

from ledenbeheer.addresses import clean_postcode

from .models import Role, Tenant, User

# The image formats a logo may have, with the file extension each is stored and served under.
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}


def logo_clean(logo):
    """A logo upload checked for size and image format (an ImageField has already refused what
    Pillow cannot open)."""
    # An unchanged or cleared logo needs no checks; a new upload carries `.image` from Pillow.
    image = getattr(logo, "image", None)
    if not logo or image is None:
        return logo
    if logo.size > settings.LOGO_MAX_BYTES:
        raise ValidationError(
            _("The logo is %(size)s; it may be at most %(max)s.")
            % {"size": filesizeformat(logo.size), "max": filesizeformat(settings.LOGO_MAX_BYTES)}
        )
    image_format = (image.format or "").upper()
    if image_format not in LOGO_FORMATS:
        raise ValidationError(_("The logo must be a PNG, JPEG, GIF or WebP image."))
    # The stored name (and so the type it is served with) follows the content, not the uploaded
    # name: a PNG called "logo.pdf" is kept and served as a PNG.
    logo.name = f"logo.{LOGO_FORMATS[image_format]}"
    return logo


def tenant_choice_label(tenant: Tenant) -> str:
    """An environment in a select, indented by its depth in the tree."""
    return f"{'— ' * (tenant.depth - 1)}{tenant.name}"


class KindSelect(forms.Select):
    """A select of model instances whose options carry a kind of environment (`data-kind`):
    static/js/app.js narrows an environment list to the kind of the chosen function type."""

    def __init__(self, attrs=None, *, kind_of):
        super().__init__(attrs)
        self.kind_of = kind_of

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-kind"] = self.kind_of(instance)
        return option


def environment_select(kind_from: str) -> KindSelect:
    """The environment list of a form with a function type field named `kind_from`."""
    return KindSelect(
        {"data-kind-from": f"id_{kind_from}", "data-search-label": _("Search an environment")},
        kind_of=lambda tenant: tenant.kind,
    )


def function_type_select() -> KindSelect:
    return KindSelect(kind_of=lambda function_type: function_type.tenant_kind)


DATE_DISPLAY_FORMAT = "%d-%m-%Y"


class DateInput(forms.DateInput):
    """A date typed as dd-mm-jjjj, in every language: the browser's own date input shows the
    browser's locale (mm/dd/yyyy in an English Chromium) and cannot be typed into the same way
    everywhere. The server reads the formats of `ledenbeheer/formats` (DATE_INPUT_FORMATS)."""

    input_type = "text"

    def __init__(self, attrs=None):
        defaults = {"placeholder": _("dd-mm-yyyy"), "inputmode": "numeric", "autocomplete": "off",
                    "maxlength": "10", "class": "date-input"}
        super().__init__({**defaults, **(attrs or {})}, format=DATE_DISPLAY_FORMAT)


class LoginForm(auth_forms.AuthenticationForm):
    username = auth_forms.UsernameField(
        label=_("Username or e-mail address"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    error_messages = {
        "invalid_login": _(
            "This username or e-mail address and password do not match. Mind that the password "
            "is case-sensitive."
        ),
        "inactive": _("This account is blocked. Ask your system administrator to unblock it."),
    }

    # The longest login there can be: an e-mail address (RFC 5321). The lock-out table stores what
    # was typed, so a longer one is refused here, before it is looked up or counted.
    MAX_LOGIN_LENGTH = 254

    def clean_username(self):
        username = self.cleaned_data["username"]
        if len(username) > self.MAX_LOGIN_LENGTH:
            raise forms.ValidationError(
                _("A username or e-mail address has at most %(count)s characters.") % {"count": self.MAX_LOGIN_LENGTH}
            )
        return username


class TwoFactorCodeForm(forms.Form):
    """The second step of a login: the app's six digits or one recovery code."""

    code = forms.CharField(
        label=_("Code"), max_length=20, strip=True,
        help_text=_("The six digits your authenticator app shows, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "text"}),
    )


class TwoFactorEnrolForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"), max_length=10, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class TwoFactorPolicyForm(forms.Form):
    roles = forms.ModelMultipleChoiceField(
        label=_("Roles that need two-factor login"), queryset=Role.objects.order_by("tenant_kind", "name"),
        required=False, widget=forms.CheckboxSelectMultiple,
    )


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Also reaches people who never set a password: a new department administrator logs in the
    first time through "forgot password" (SPEC T5)."""

    def get_users(self, email):
        return User.objects.with_email(email).filter(is_active=True)


class TenantForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = [
            "name", "short_name", "registration_number", "email", "phone", "website", "iban",
            "language", "logo",
            "postal_street", "postal_house_number", "postal_postcode", "postal_city", "postal_country",
            "billing_street", "billing_house_number", "billing_postcode", "billing_city",
            "billing_country",
        ]
        widgets = {"logo": forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"})}

    def clean_iban(self) -> str:
        value = self.cleaned_data["iban"].replace(" ", "").upper()
        if value and not stdnum_iban.is_valid(value):
            raise ValidationError(_("This is not a valid IBAN. Check the number for typing errors."))
        return stdnum_iban.format(value) if value else value

    def clean_logo(self):
        return logo_clean(self.cleaned_data.get("logo"))

    def clean(self):
        cleaned = super().clean()
        for prefix in ("postal", "billing"):
            field = f"{prefix}_postcode"
            if field in cleaned and not self.has_error(field):
                try:
                    cleaned[field] = clean_postcode(cleaned[field], cleaned.get(f"{prefix}_country") or "")
                except ValidationError as error:
                    self.add_error(field, error)
        return cleaned


class UserCreateForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Surname"), max_length=150)
    email = forms.EmailField(label=_("E-mail address"))
    username = forms.CharField(
        label=_("Username"), max_length=150, required=False,
        help_text=_("Leave empty for the usual form: first initial and surname in capitals."),
    )
    role = forms.ModelChoiceField(
        label=_("Role in this environment"), queryset=Role.objects.none(), required=False,
        empty_label=_("(no role yet)"),
    )
    start_date = forms.DateField(
        label=_("Role starts on"), widget=DateInput, initial=datetime.date.today, required=False
    )

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = Role.objects.filter(tenant_kind=tenant.kind)


class RoleAssignmentForm(forms.Form):
    tenant = forms.ModelChoiceField(label=_("Environment"), queryset=Tenant.objects.none())
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.all())
    start_date = forms.DateField(label=_("Start date"), widget=DateInput, initial=datetime.date.today)
    end_date = forms.DateField(label=_("End date"), widget=DateInput, required=False)

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants
        self.fields["tenant"].label_from_instance = tenant_choice_label

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date cannot be before the start date."))
        return cleaned


class TemporaryPasswordForm(auth_forms.SetPasswordForm):
    """An administrator types a temporary password; the user must change it at next login."""
