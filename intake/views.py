"""Intake forms (settings), the public form page, "+Inschrijving" for administrators, and the
registrations list with accept / link / reject (SPEC I1–I3)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from notifications.models import OutboundMail
from notifications.services import templates_for
from relations.forms import add_service_error
from relations.models import Relation
from tenants.access import environment_required, require_perm

from . import services as intake
from .forms import (
    IntakeFormForm,
    IntakeFormRowFormSet,
    IntakeSubmissionForm,
    RegistrationAcceptForm,
    RegistrationLinkForm,
    RegistrationRejectForm,
    row_initial,
)
from .models import IntakeForm, Registration, RegistrationStatus

# --- settings: the environment's intake forms ----------------------------------------------------


def _own_form_or_404(request, pk: int) -> IntakeForm:
    """A form of the current environment: forms are changed where they were made."""
    return get_object_or_404(IntakeForm.objects.select_related("tenant"), pk=pk, tenant=request.tenant)


@environment_required
def intake_form_list(request):
    require_perm(request, "intake.view_intakeform")
    forms = (
        IntakeForm.objects.filter(tenant=request.tenant)
        .select_related("function_type")
        .annotate(row_count=Count("rows", distinct=True))
    )
    context = {
        "intake_forms": forms,
        "can_add": request.user.has_perm("intake.add_intakeform", request.tenant),
        "can_change": request.user.has_perm("intake.change_intakeform", request.tenant),
    }
    return render(request, "intake/intake_form_list.html", context)


def _intake_form_page(request, intake_form: IntakeForm, *, creating: bool):
    tenant = request.tenant
    targets = intake.target_choices(tenant)
    form = IntakeFormForm(request.POST or None, instance=intake_form, tenant=tenant, templates=templates_for(tenant))
    rows = IntakeFormRowFormSet(
        request.POST or None, prefix="rows", form_kwargs={"targets": targets},
        initial=None if creating else row_initial(intake_form),
    )
    row_errors: list[str] = []
    if request.method == "POST" and form.is_valid() and rows.is_valid():
        instance = form.save(commit=False)
        try:
            intake.intake_form_save(
                intake_form=instance, departments=list(form.cleaned_data["departments"]), rows=rows.rows()
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                row_errors = error.error_dict.pop("rows", [])
                row_errors = [m for e in row_errors for m in e.messages]
                if error.error_dict:
                    add_service_error(form, error)
            else:
                form.add_error(None, error)
            if not form.errors and not row_errors:
                form.add_error(None, error)
        else:
            messages.success(request, _("The intake form “%(name)s” has been saved.") % {"name": instance.name})
            return redirect("intake_form_edit", pk=instance.pk)
    context = {
        "form": form, "rows": rows, "row_errors": row_errors or list(rows.non_form_errors()),
        "intake_form": intake_form, "creating": creating,
        "public_url": request.build_absolute_uri(reverse("intake_public", kwargs={"slug": intake_form.slug}))
        if intake_form.pk else "",
    }
    return render(request, "intake/intake_form_form.html", context)


@environment_required
@require_http_methods(["GET", "POST"])
def intake_form_create(request):
    require_perm(request, "intake.add_intakeform")
    return _intake_form_page(request, IntakeForm(tenant=request.tenant), creating=True)


@environment_required
@require_http_methods(["GET", "POST"])
def intake_form_edit(request, pk: int):
    # The power first, then the object: the answer tells nothing to whoever may not edit.
    require_perm(request, "intake.change_intakeform")
    intake_form = _own_form_or_404(request, pk)
    return _intake_form_page(request, intake_form, creating=False)


# --- filling in a form -------------------------------------------------------------------------


def _client_address(request) -> str:
    # The address the login lock-out (django-axes) sees, so both trust the same proxy headers.
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or "unknown"


@require_http_methods(["GET", "POST"])
def intake_public(request, slug: str):
    """The public website form: no login; a honeypot and a rate limit keep robots out."""
    intake_form = get_object_or_404(
        IntakeForm.objects.select_related("tenant", "function_type"), slug=slug, active=True, kind="public"
    )
    if request.GET.get("sent") == "1":
        return render(request, "intake/intake_public.html", {"intake_form": intake_form, "sent": True})
    departments = intake.departments_for(intake_form)
    form = IntakeSubmissionForm(request.POST or None, intake_form=intake_form, departments=departments, public=True)
    if request.method == "POST":
        if form.is_spam:
            # Answer as if it worked: a robot learns nothing, and nothing is stored.
            return redirect(f"{request.path}?sent=1")
        # Only forms that would be stored count: someone correcting typing errors is not blocked.
        if form.is_valid() and intake.intake_rate_limited(_client_address(request)):
            form.add_error(None, _("Too many forms were sent from your address. Try again in an hour."))
            return render(request, "intake/intake_public.html", {"intake_form": intake_form, "form": form}, status=429)
        if form.is_valid():
            try:
                intake.registration_submit(
                    intake_form=intake_form, values=form.values(), department=form.cleaned_data["department"]
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                return redirect(f"{request.path}?sent=1")
    return render(request, "intake/intake_public.html", {"intake_form": intake_form, "form": form})


def fillable_forms(request):
    """The forms an administrator may fill in here ("+Inschrijving"): open forms of this
    environment, the ones above it and the ones below it (the federation registers someone
    through a province's form)."""
    above = Q(tenant__path__in=request.tenant.ancestor_paths())
    forms = IntakeForm.objects.filter(above | request.tenant.subtree_filter("tenant"), active=True)
    # Only forms that offer a department here (no departments chosen: all below the form's own).
    here = Q(departments__isnull=True) | request.tenant.subtree_filter("departments")
    return forms.filter(here).distinct().order_by("name")


@environment_required
@require_http_methods(["GET", "POST"])
def intake_fill(request, pk: int):
    require_perm(request, "intake.add_registration")
    intake_form = get_object_or_404(fillable_forms(request).select_related("tenant"), pk=pk)
    departments = intake.departments_for(intake_form).filter(request.tenant.subtree_filter())
    if not departments.exists():
        raise Http404
    form = IntakeSubmissionForm(request.POST or None, intake_form=intake_form, departments=departments, public=False)
    if request.method == "POST" and form.is_valid():
        try:
            registration = intake.registration_submit(
                intake_form=intake_form, values=form.values(), department=form.cleaned_data["department"],
                actor=request.user,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The registration of %(name)s has been received.") % {"name": registration.display_name})
            if request.user.has_perm("intake.view_registration", request.tenant) and \
                    Registration.objects.visible_to(request.user, request.tenant).filter(pk=registration.pk).exists():
                return redirect("registration_detail", pk=registration.pk)
            return redirect("intake_fill", pk=intake_form.pk)
    return render(request, "intake/intake_fill.html", {"intake_form": intake_form, "form": form})


# --- registrations -----------------------------------------------------------------------------


def _registration_or_404(request, pk: int) -> Registration:
    return get_object_or_404(
        Registration.objects.visible_to(request.user, request.tenant).select_related(
            "form", "form__function_type", "tenant", "department", "relation", "decided_by", "submitted_by"
        ),
        pk=pk,
    )


REGISTRATIONS_PER_PAGE = 50


@environment_required
def registration_list(request):
    """The registrations ("Inschrijvingen") and "+ Inschrijving". Department administrators may
    only enter registrations: they get the forms, not the list."""
    can_view = request.user.has_perm("intake.view_registration", request.tenant)
    if not can_view:
        require_perm(request, "intake.add_registration")
    status = request.GET.get("status", RegistrationStatus.NEW)
    if status not in RegistrationStatus.values and status != "all":
        status = RegistrationStatus.NEW
    registrations = Registration.objects.visible_to(request.user, request.tenant).select_related("form", "department")
    if status != "all":
        registrations = registrations.filter(status=status)
    context = {
        "can_view": can_view,
        "page": Paginator(registrations, REGISTRATIONS_PER_PAGE).get_page(request.GET.get("page")),
        "status": status,
        "statuses": [*RegistrationStatus.choices, ("all", _("All"))],
        "fillable": list(fillable_forms(request)) if request.user.has_perm("intake.add_registration", request.tenant) else [],
    }
    return render(request, "intake/registration_list.html", context)


def _decision_departments(request, registration: Registration):
    return intake.departments_for(registration.form).filter(request.tenant.subtree_filter())


def _detail(request, registration: Registration, *, accept_form=None, link_form=None, reject_form=None, status=200):
    can_decide = registration.status == RegistrationStatus.NEW and request.user.has_perm(
        "intake.change_registration", request.tenant
    )
    candidates = []
    if registration.status == RegistrationStatus.NEW:
        candidates = intake.registration_duplicates(registration, Relation.objects.visible_to(request.user, request.tenant))
    departments = _decision_departments(request, registration)
    initial = {"department": registration.department_id}
    if can_decide:
        # Three forms on one page: each its own element ids.
        accept_form = accept_form or RegistrationAcceptForm(departments=departments, initial=initial, auto_id="accept_%s")
        if candidates:
            link_form = link_form or RegistrationLinkForm(
                departments=departments, candidates=candidates, initial=initial, auto_id="link_%s"
            )
        reject_form = reject_form or RegistrationRejectForm(auto_id="reject_%s")
    context = {
        "registration": registration, "rows": registration.data.get("rows", []), "candidates": candidates,
        "can_decide": can_decide, "accept_form": accept_form, "link_form": link_form, "reject_form": reject_form,
        "mails": OutboundMail.objects.filter(reference=f"registration:{registration.pk}").order_by("created_at"),
    }
    return render(request, "intake/registration_detail.html", context, status=status)


@environment_required
def registration_detail(request, pk: int):
    registration = _registration_or_404(request, pk)
    return _detail(request, registration)


def _decision_refused(request, registration, error: ValidationError, **forms):
    """Show the registration again with the reason; a registration decided meanwhile is shown as
    it is now (the double click)."""
    registration.refresh_from_db()
    form = next(iter(forms.values()))
    add_service_error(form, error)
    if registration.status != RegistrationStatus.NEW:
        messages.error(request, " ".join(error.messages))
        return redirect("registration_detail", pk=registration.pk)
    return _detail(request, registration, **forms)


@environment_required
@require_POST
def registration_accept(request, pk: int):
    registration = _registration_or_404(request, pk)
    require_perm(request, "intake.change_registration")
    form = RegistrationAcceptForm(request.POST, departments=_decision_departments(request, registration), auto_id="accept_%s")
    if not form.is_valid():
        return _detail(request, registration, accept_form=form)
    try:
        relation = intake.registration_accept(
            actor=request.user, registration=registration, department=form.cleaned_data["department"],
            start_date=form.cleaned_data["start_date"],
        )
    except ValidationError as error:
        return _decision_refused(request, registration, error, accept_form=form)
    messages.success(request, _("%(name)s is now a member (relation number %(number)s).")
                     % {"name": relation.display_name, "number": relation.number})
    return redirect("relation_detail", pk=relation.pk)


@environment_required
@require_POST
def registration_link(request, pk: int):
    registration = _registration_or_404(request, pk)
    require_perm(request, "intake.change_registration")
    candidates = intake.registration_duplicates(registration, Relation.objects.visible_to(request.user, request.tenant))
    form = RegistrationLinkForm(
        request.POST, departments=_decision_departments(request, registration), candidates=candidates,
        auto_id="link_%s",
    )
    if not form.is_valid():
        return _detail(request, registration, link_form=form)
    relation = next(r for r, _reasons in candidates if r.pk == form.cleaned_data["relation"])
    try:
        intake.registration_link(
            actor=request.user, registration=registration, relation=relation,
            department=form.cleaned_data["department"], start_date=form.cleaned_data["start_date"],
        )
    except ValidationError as error:
        return _decision_refused(request, registration, error, link_form=form)
    messages.success(request, _("The registration has been linked to %(name)s.") % {"name": relation.display_name})
    return redirect("relation_detail", pk=relation.pk)


@environment_required
@require_POST
def registration_reject(request, pk: int):
    registration = _registration_or_404(request, pk)
    require_perm(request, "intake.change_registration")
    form = RegistrationRejectForm(request.POST, auto_id="reject_%s")
    if not form.is_valid():
        return _detail(request, registration, reject_form=form)
    try:
        intake.registration_reject(actor=request.user, registration=registration, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        return _decision_refused(request, registration, error, reject_form=form)
    messages.success(request, _("The registration of %(name)s has been rejected.") % {"name": registration.display_name})
    return redirect("registration_list")
