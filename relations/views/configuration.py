"""Configuration of an environment's relation cards: custom fields ("extra velden") and the
types of communication-log entries."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tenants.access import environment_required, require_perm
from tenants.models import Tenant

from .. import services
from ..forms_configuration import CommunicationTypeForm, CustomFieldForm
from ..models import CommunicationType, CustomField, Relation


def _own_and_inherited(model, request):
    """Rows of this environment (editable here) and of the environments above it (inherited)."""
    rows = model.objects.filter(tenant__path__in=request.tenant.ancestor_paths()).select_related("tenant")
    return [r for r in rows if r.tenant_id == request.tenant.pk], [r for r in rows if r.tenant_id != request.tenant.pk]


def _get_own_or_404(model, request, pk: int):
    """Only the current environment's own rows can be changed here; others answer 404."""
    return get_object_or_404(model, pk=pk, tenant=request.tenant)


@environment_required
def custom_field_list(request):
    require_perm(request, "relations.change_customfield")
    own, inherited = _own_and_inherited(CustomField, request)
    return render(request, "relations/custom_field_list.html", {"own": own, "inherited": inherited})


def _save_form(request, form: forms.ModelForm, tenant: Tenant, success: str, redirect_to: str):
    instance = form.save(commit=False)
    instance.tenant = tenant
    try:
        instance.validate_constraints()
    except forms.ValidationError:
        form.add_error("code", _("This code is already used in this environment."))
        return None
    instance.save()
    messages.success(request, success)
    return redirect(redirect_to)


@environment_required
@require_http_methods(["GET", "POST"])
def custom_field_create(request):
    require_perm(request, "relations.add_customfield")
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        response = _save_form(request, form, request.tenant, _("The custom field has been added."), "custom_field_list")
        if response:
            return response
    return render(request, "relations/custom_field_form.html", {"form": form})


@environment_required
@require_http_methods(["GET", "POST"])
def custom_field_edit(request, pk: int):
    require_perm(request, "relations.change_customfield")
    field = _get_own_or_404(CustomField, request, pk)
    form = CustomFieldForm(request.POST or None, instance=field)
    if request.method == "POST" and form.is_valid():
        response = _save_form(request, form, request.tenant, _("The custom field has been saved."), "custom_field_list")
        if response:
            return response
    return render(request, "relations/custom_field_form.html", {"form": form, "field": field})


@environment_required
@require_http_methods(["GET", "POST"])
def custom_field_delete(request, pk: int):
    require_perm(request, "relations.delete_customfield")
    field = _get_own_or_404(CustomField, request, pk)
    if request.method == "POST":
        field.delete()
        messages.success(
            request,
            _("The custom field %(label)s has been removed. Values already stored on cards are kept.")
            % {"label": field.label},
        )
        return redirect("custom_field_list")
    return render(request, "relations/custom_field_delete.html", {"field": field})


@environment_required
@require_http_methods(["GET", "POST"])
def communication_type_list(request):
    require_perm(request, "relations.change_communicationtype")
    own, inherited = _own_and_inherited(CommunicationType, request)
    form = CommunicationTypeForm(request.POST or None)
    if request.method == "POST":
        require_perm(request, "relations.add_communicationtype")
        if form.is_valid():
            response = _save_form(
                request, form, request.tenant, _("The communication type has been added."), "communication_type_list"
            )
            if response:
                return response
    return render(
        request, "relations/communication_type_list.html", {"own": own, "inherited": inherited, "form": form}
    )


@environment_required
@require_http_methods(["GET", "POST"])
def communication_type_edit(request, pk: int):
    require_perm(request, "relations.change_communicationtype")
    communication_type = _get_own_or_404(CommunicationType, request, pk)
    form = CommunicationTypeForm(request.POST or None, instance=communication_type)
    if request.method == "POST" and form.is_valid():
        if "delete" in request.POST:
            try:
                communication_type.delete()
            except ProtectedError:
                messages.error(request, _("This type is used in communication logs and cannot be removed."))
                return redirect("communication_type_edit", pk=pk)
            messages.success(request, _("The communication type has been removed."))
            return redirect("communication_type_list")
        response = _save_form(
            request, form, request.tenant, _("The communication type has been saved."), "communication_type_list"
        )
        if response:
            return response
    return render(
        request, "relations/communication_type_form.html", {"form": form, "communication_type": communication_type}
    )


# --- which corrections by members wait for approval (the member portal, issue 18) ---------------


class ApprovalSettingForm(forms.Form):
    fields = forms.MultipleChoiceField(
        label=gettext_lazy("Fields whose correction by the member waits for the department's approval"), required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields"].choices = [
            (name, str(Relation._meta.get_field(name).verbose_name).capitalize()) for name in services.MEMBER_FIELDS
        ]


@environment_required
@require_http_methods(["GET", "POST"])
def approval_settings(request):
    """National: which of the fields members correct in the portal need the department's
    approval first (none until chosen)."""
    require_perm(request, "relations.change_approvalsetting")
    federation = Tenant.objects.get(path=request.tenant.root_path)
    initial = {"fields": services.approval_fields_for(federation)}
    form = ApprovalSettingForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.approval_setting_set(actor=request.user, federation=federation, fields=form.cleaned_data["fields"])
        messages.success(request, _("The fields that need approval have been saved."))
        return redirect("approval_settings")
    return render(request, "relations/approval_settings.html", {"form": form}, status=400 if form.errors else 200)
