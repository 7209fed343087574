"""The ledenmodule (SPEC L1): the department administrator's own, slimmer screens — member list,
registering (after searching for known persons), updating, ending memberships, organisation
data, reports and downloads, their own history — and looking along with them (SPEC T7).

Every view works for `request.ledenmodule.person`: the department administrator, or the one a
national administrator looks along with. Lists go through `visible_to(person, department)`;
writes are made by `request.user`, the person who really acts.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dashboard import reports as dashboard_reports
from dashboard import services as dashboard_services
from intake import services as intake
from intake.forms import IntakeSubmissionForm, field_name
from memberships import services
from memberships.card import relation_create
from relations.exports import ExportRows, download_response
from relations.filters import RelationFilter, export_columns
from relations.forms import RelationForm, add_service_error
from relations.models import ChangeRequest, Relation
from relations.services import change_request_decide, custom_fields_for, relation_update
from relations.views.card import relation_history_events
from tenants.access import environment_required, ledenmodule_departments
from tenants.middleware import environment_keep
from tenants.models import Tenant, User
from tenants.periods import has_ended
from wizards.models import Section, Wizard
from wizards.views import RunLayout, wizard_run

from . import looking_along
from . import services as ledenmodule
from .forms import (
    KnownPersonSearchForm,
    MemberEnrolForm,
    MemberRegistrationForm,
    MembershipEndForm,
)

PAGE_SIZE = 50


@dataclass
class Ledenmodule:
    """Whose ledenmodule this request shows, and for which of their departments."""

    person: User
    department: Tenant
    departments: list[Tenant]

    def may(self, perm: str) -> bool:
        return self.person.has_perm(perm, self.department)

    def relations(self):
        return Relation.objects.visible_to(self.person, self.department)


def ledenmodule_required(view):
    """Department administrators only (and whoever looks along with one): anyone else gets 403.
    The current environment must be one of their departments; entering the ledenmodule from
    another environment of theirs switches to their first department."""

    @environment_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        person = looking_along.current(request) or request.user
        departments = ledenmodule_departments(person)
        if not departments:
            raise PermissionDenied
        department = ledenmodule.ledenmodule_department(departments, request.tenant)
        if department != request.tenant:
            environment_keep(request, department)
            request.tenant = department
        request.ledenmodule = Ledenmodule(person=person, department=department, departments=departments)
        return view(request, *args, **kwargs)

    return wrapper


def _member_or_404(request, pk: int) -> Relation:
    return get_object_or_404(request.ledenmodule.relations().select_related("tenant"), pk=pk)


def _require(request, perm: str) -> None:
    if not request.ledenmodule.may(perm):
        raise PermissionDenied


# --- the dashboard ----------------------------------------------------------------------------


@ledenmodule_required
def dashboard(request):
    """The department's dashboard: the widgets for this department, and its membership flow over
    the last five seasons (the same counts as everywhere, for this department only)."""
    lm = request.ledenmodule
    widgets, hidden = dashboard_services.dashboard_widgets(user=lm.person, tenant=lm.department, ledenmodule=True)
    today = timezone.localdate()
    scope = dashboard_reports.report_scope(environment=lm.department, department_id=None, first=None, last=None,
                                 today=today, default_seasons=5)
    return render(request, "ledenmodule/dashboard.html", {
        "widgets": widgets, "hidden": hidden, "back": reverse("ledenmodule_dashboard"),
        "report": dashboard_reports.membership_flow(scope, today=today),
    })


# --- the member list ---------------------------------------------------------------------------


@ledenmodule_required
def member_list(request):
    """Current members by default, former members on request; the search box narrows both."""
    lm = request.ledenmodule
    _require(request, "relations.view_relation")
    former = request.GET.get("former") == "1"
    search = RelationFilter(request.GET, tenant=lm.department)
    members = ledenmodule.department_members(search.filter_queryset(lm.relations()), lm.department, former=former)
    page = Paginator(members.order_by(*search.ordering()), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page, "former": former, "query": search.query,
        "can_register": lm.may("relations.add_relation") and lm.may("memberships.add_function"),
        # The import works in the current environment, which the ledenmodule keeps on the
        # department: its rows can only become members of this department (imports.services).
        "can_import": lm.may("imports.add_importbatch") and lm.may("memberships.add_function"),
    }
    return render(request, "ledenmodule/member_list.html", context)


@ledenmodule_required
@require_POST
def department_switch(request):
    """A person who administers several departments switches between them (SPEC T6)."""
    try:
        pk = int(request.POST.get("department", ""))
    except ValueError:
        raise Http404 from None
    department = next((d for d in request.ledenmodule.departments if d.pk == pk), None)
    if department is None:
        raise Http404
    environment_keep(request, department)
    return redirect("ledenmodule_member_list")


# --- registering -------------------------------------------------------------------------------


def _search_terms(form: KnownPersonSearchForm) -> dict:
    data = form.cleaned_data
    return {
        "last_name": data.get("last_name", ""),
        "birth_date": data.get("birth_date"),
        "email": data.get("email", ""),
    }


def _search_query(form: KnownPersonSearchForm) -> str:
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for key, value in _search_terms(form).items():
        if value:
            query[key] = value.isoformat() if isinstance(value, datetime.date) else value
    return query.urlencode()


@ledenmodule_required
def member_search(request):
    """Search the federation for the person first (wish list 001), then register: an existing
    card gets the membership; only an unknown person gets a new card."""
    lm = request.ledenmodule
    _require(request, "memberships.add_function")
    form = KnownPersonSearchForm(request.GET or None)
    found = None
    if form.is_bound and form.is_valid():
        found = list(ledenmodule.known_persons(**_search_terms(form))[: ledenmodule.KNOWN_PERSONS_LIMIT])
        members_here = ledenmodule.department_member_ids(lm.relations(), lm.department, among=[r.pk for r in found])
        for relation in found:
            relation.is_member_here = relation.pk in members_here
    context = {"form": form, "found": found, "search_query": _search_query(form) if found is not None else ""}
    return render(request, "ledenmodule/member_search.html", context)


def registration_form(request, data=None):
    """The relation form with a membership of the department: how a department administrator
    registers a new member when the department has no intake form of its own."""
    lm = request.ledenmodule
    initial = {key: request.GET.get(key) for key in ("last_name", "birth_date", "email") if request.GET.get(key)}
    return MemberRegistrationForm(
        data, department=lm.department, custom_fields=custom_fields_for(lm.department), initial=initial,
    )


def _register_through_intake_form(request, intake_form):
    """The department's intake form ("afdelingsformulier", SPEC I1): the registration lands in
    "Inschrijvingen" of the form's environment, where the province accepts it."""
    lm = request.ledenmodule
    _require(request, "intake.add_registration")
    departments = Tenant.objects.filter(pk=lm.department.pk)
    # What the administrator searched for before registering, in the form's own field names.
    initial = {field_name(key): request.GET[key] for key in ("last_name", "birth_date", "email") if request.GET.get(key)}
    form = IntakeSubmissionForm(
        request.POST or None, intake_form=intake_form, departments=departments, public=False, initial=initial,
    )
    del form.fields["department"]  # always the administrator's own department
    if request.method == "POST" and form.is_valid():
        try:
            registration = intake.registration_submit(
                intake_form=intake_form, values=form.values(), department=lm.department, actor=request.user,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("The registration of %(name)s has been received; %(environment)s will process it.")
                % {"name": registration.display_name, "environment": intake_form.tenant.name},
            )
            return redirect("ledenmodule_member_list")
    return render(request, "ledenmodule/member_register_intake.html", {"form": form, "intake_form": intake_form})


@ledenmodule_required
@require_http_methods(["GET", "POST"])
def member_create(request):
    lm = request.ledenmodule
    intake_form = intake.department_intake_form(lm.department)
    if intake_form is not None:
        return _register_through_intake_form(request, intake_form)
    _require(request, "relations.add_relation")
    _require(request, "memberships.add_function")
    form = registration_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            relation = relation_create(
                actor=request.user, tenant=lm.department, data=form.relation_data, extra=form.extra_data,
                function_type=data["function_type"], function_tenant=lm.department, start_date=data["start_date"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("%(name)s has been registered as a member with relation number %(number)s.")
                % {"name": relation.display_name, "number": relation.number},
            )
            return redirect("ledenmodule_member_detail", pk=relation.pk)
    return render(request, "ledenmodule/member_form.html", {"form": form, "relation": None})


@ledenmodule_required
@require_http_methods(["GET", "POST"])
def member_enrol(request, pk: int):
    """A known person becomes a member of the department. The person must match the search
    they were found with, so nobody can enrol (and so open) an arbitrary card by its number."""
    lm = request.ledenmodule
    _require(request, "memberships.add_function")
    search = KnownPersonSearchForm(request.GET)
    if not search.is_valid():
        raise Http404
    relation = get_object_or_404(ledenmodule.known_persons(**_search_terms(search)), pk=pk)
    form = MemberEnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ledenmodule.member_enrol(
                actor=request.user, relation=relation, department=lm.department,
                function_type=form.cleaned_data["function_type"], start_date=form.cleaned_data["start_date"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("%(name)s has been registered as a member of %(department)s.")
                % {"name": relation.display_name, "department": lm.department.name},
            )
            return redirect("ledenmodule_member_detail", pk=relation.pk)
    context = {"form": form, "relation": relation, "search_query": _search_query(search)}
    return render(request, "ledenmodule/member_enrol.html", context)


# --- one member --------------------------------------------------------------------------------


@ledenmodule_required
def member_detail(request, pk: int):
    """The member's data, their memberships of the department and the change history (wish
    list 001: "which changes were made to a member")."""
    lm = request.ledenmodule
    relation = _member_or_404(request, pk)
    today = datetime.date.today()
    memberships = ledenmodule.department_memberships(relation, lm.department)
    for function in memberships:
        function.is_current = not has_ended(function.end_date, today)
    context = {
        "relation": relation,
        "memberships": memberships,
        "events": relation_history_events(relation),
        "can_edit": lm.may("relations.change_relation"),
        "can_end": lm.may("memberships.change_function"),
    }
    return render(request, "ledenmodule/member_detail.html", context)


@ledenmodule_required
@require_http_methods(["GET", "POST"])
def member_edit(request, pk: int):
    relation = _member_or_404(request, pk)
    _require(request, "relations.change_relation")
    form = RelationForm(request.POST or None, instance=relation, custom_fields=custom_fields_for(relation.tenant))
    if request.method == "POST" and form.is_valid():
        try:
            relation_update(actor=request.user, relation=relation, data=form.relation_data, extra=form.extra_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The card has been saved."))
            return redirect("ledenmodule_member_detail", pk=relation.pk)
    return render(request, "ledenmodule/member_form.html", {"form": form, "relation": relation})


@ledenmodule_required
@require_http_methods(["GET", "POST"])
def member_end(request, pk: int):
    """End the membership with a date and a reason; the federation's notice rules may move the
    date later (the confirmation says so)."""
    lm = request.ledenmodule
    relation = _member_or_404(request, pk)
    _require(request, "memberships.change_function")
    function = ledenmodule.membership_to_end(relation, lm.department)
    if function is None:
        raise Http404
    form = MembershipEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ended = form.end(actor=request.user, function=function)
        if ended is not None:
            end_date = ended[0].end_date
            message = _("The membership of %(name)s ends on %(date)s.") % {
                "name": relation.display_name, "date": date_format(end_date, "SHORT_DATE_FORMAT"),
            }
            if end_date != form.cleaned_data["end_date"]:
                message += " " + _("The federation's notice period moved the date you chose.")
            messages.success(request, message)
            return redirect("ledenmodule_member_list")
    today = datetime.date.today()
    notice_date = services.notice_end_date(tenant=lm.department, received=today, requested=today)
    context = {"form": form, "relation": relation, "function": function,
               "notice_date": notice_date if notice_date != today else None}
    return render(request, "ledenmodule/member_end.html", context)


# --- organisation, reports, own history --------------------------------------------------------


@ledenmodule_required
def organisation(request):
    _require(request, "tenants.view_tenant")
    return render(request, "ledenmodule/organisation.html", {"tenant": request.ledenmodule.department})


@ledenmodule_required
def report_run(request, pk: int):
    """A ledenmodule wizard, run inside the ledenmodule's own layout."""
    lm = request.ledenmodule
    ledenmodule_wizards = Wizard.objects.visible_to(lm.person, lm.department).filter(section=Section.LEDENMODULE)
    get_object_or_404(ledenmodule_wizards, pk=pk)
    return wizard_run(request, pk, layout=LEDENMODULE_RUN)


LEDENMODULE_RUN = RunLayout(
    base_template="ledenmodule/base.html", back_url_name="ledenmodule_reports",
    relation_url_name="ledenmodule_member_detail",
)


@ledenmodule_required
def reports(request):
    """The ledenmodule reports: the department member list to download, and the ledenmodule
    wizards (section "ledenmodule") the person may run in their department."""
    lm = request.ledenmodule
    _require(request, "relations.export_relation")
    wizards = Wizard.objects.visible_to(lm.person, lm.department).filter(section=Section.LEDENMODULE)
    return render(request, "ledenmodule/reports.html", {"wizards": wizards.order_by("name")})


@ledenmodule_required
def member_export(request, fmt: str):
    """The department's members as CSV or Excel; former members only when asked (wish list
    001: inactive members not in exports)."""
    lm = request.ledenmodule
    _require(request, "relations.export_relation")
    if fmt not in ("csv", "xlsx"):
        raise Http404
    search = RelationFilter(request.GET, tenant=lm.department)
    members = ledenmodule.department_members_to_export(
        lm.relations(), lm.department, with_former=request.GET.get("former") == "1"
    )
    columns = export_columns(search.columns)
    rows = ExportRows(members.order_by(*search.ordering()), columns, lm.department)
    return download_response(
        rows, columns, fmt=fmt, actor=request.user, tenant=lm.department, title=_("Members"),
        filename=f"leden-{slugify(lm.department.name)}-{datetime.date.today():%Y%m%d}",
    )


HISTORY_LIMIT = 100


@ledenmodule_required
def my_history(request):
    """The person's own log: who looked along with them, and what was changed on their behalf."""
    person = request.ledenmodule.person
    looked_along = list(ledenmodule.look_along_events(person)[:HISTORY_LIMIT])
    changes = ledenmodule.changes_on_behalf_of(person, limit=HISTORY_LIMIT)
    return render(request, "ledenmodule/my_history.html", {"looked_along": looked_along, "changes": changes})


# --- members' corrections waiting for approval (the member portal, issue 18) -------------------


@ledenmodule_required
@require_http_methods(["GET", "POST"])
def change_requests(request):
    """Corrections members made in the portal to fields the federation wants approved: approve
    (the card changes, in the member's name) or reject, one at a time."""
    lm = request.ledenmodule
    _require(request, "relations.change_changerequest")
    waiting = ChangeRequest.objects.filter(
        relation__in=lm.relations(), tenant=lm.department, status=ChangeRequest.Status.PENDING,
    ).select_related("relation")
    if request.method == "POST":
        try:
            pk = int(request.POST.get("request", ""))
        except ValueError:
            raise Http404 from None
        change_request = get_object_or_404(waiting, pk=pk)
        approve = request.POST.get("decision") == "approve"
        try:
            change_request_decide(actor=request.user, change_request=change_request, approve=approve)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            name = change_request.relation.display_name
            if approve:
                messages.success(request, _("The change of %(name)s has been approved.") % {"name": name})
            else:
                messages.success(request, _("The change of %(name)s has been rejected.") % {"name": name})
        return redirect("ledenmodule_change_requests")
    rows = [
        (change_request, [
            (str(Relation._meta.get_field(name).verbose_name), change_request.previous.get(name), value)
            for name, value in change_request.values.items()
        ])
        for change_request in waiting.order_by("requested_at")[:PAGE_SIZE]
    ]
    return render(request, "ledenmodule/change_requests.html", {"rows": rows})


# --- looking along (SPEC T7) ------------------------------------------------------------------


@environment_required
@require_POST
def look_along_start(request, pk: int):
    """A national administrator steps into a department administrator's ledenmodule. Anyone
    else — province administrators included — learns nothing: 404."""
    target = User.objects.filter(pk=pk).first()
    if target is None or looking_along.start(request, target=target) is None:
        raise Http404
    return redirect("ledenmodule_member_list")


@login_required
@require_POST
def look_along_stop(request):
    target = looking_along.stop(request)
    if target is None:
        return redirect("home")
    messages.success(request, _("You no longer look along with %(name)s.") % {"name": target.get_full_name() or target.username})
    relation = Relation.objects.filter(user=target).only("pk").first()
    if relation is not None:
        return redirect(reverse("relation_detail", kwargs={"pk": relation.pk}))
    return redirect("home")
