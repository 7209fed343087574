"""User management ("Systeembeheer › Gebruikers"): list, create, roles, block, passwords."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import services, two_factor
from ..access import can_manage_user, environment_required, get_user_or_404, require_perm
from ..forms import RoleAssignmentForm, TemporaryPasswordForm, UserCreateForm
from ..models import RoleAssignment, Tenant, User
from ..periods import has_ended

PAGE_SIZE = 50


def _require_manage(request, user: User, perm: str) -> None:
    if not can_manage_user(request.user, user, perm):
        raise PermissionDenied


@environment_required
def user_list(request):
    require_perm(request, "tenants.view_user")
    today = datetime.date.today()
    query = request.GET.get("q", "").strip()
    users = (
        User.objects.visible_to(request.user, request.tenant)
        .select_related("tenant")
        .prefetch_related(
            Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.not_ended(today).select_related("role", "tenant"),
                to_attr="current_assignments",
            )
        )
        .order_by("username")
    )
    if query:
        users = users.filter(
            Q(username__icontains=query) | Q(first_name__icontains=query)
            | Q(last_name__icontains=query) | Q(email__icontains=query)
        )
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    locked = services.locked_out_usernames([u.username for u in page.object_list])
    for user in page.object_list:
        user.is_locked_out = user.username.lower() in locked
    context = {"page": page, "query": query, "can_add": request.user.has_perm("tenants.add_user", request.tenant)}
    template = "tenants/user_list.html#results" if request.htmx else "tenants/user_list.html"
    return render(request, template, context)


@environment_required
@require_http_methods(["GET", "POST"])
def user_create(request):
    require_perm(request, "tenants.add_user")
    form = UserCreateForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["role"] is not None:
            require_perm(request, "tenants.add_roleassignment")
        try:
            user = services.user_create(
                actor=request.user, tenant=request.tenant, username=data["username"],
                email=data["email"], first_name=data["first_name"], last_name=data["last_name"],
                role=data["role"], start_date=data["start_date"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("User %(username)s has been created and has been sent a link to choose a password.")
                % {"username": user.username},
            )
            return redirect("user_detail", pk=user.pk)
    return render(request, "tenants/user_form.html", {"form": form})


def _assignable_tenants(request):
    """Environments below the current one where this administrator may give roles."""
    tenants = Tenant.objects.visible_to(request.user, request.tenant).order_by("path")
    return [t for t in tenants if request.user.has_perm("tenants.add_roleassignment", t)]


@environment_required
def user_detail(request, pk: int):
    require_perm(request, "tenants.view_user")
    user = get_user_or_404(request, pk)
    assignments = list(
        RoleAssignment.objects.filter(user=user).select_related("role", "tenant").order_by("-start_date")
    )
    today = datetime.date.today()
    for assignment in assignments:
        assignment.is_current = assignment.is_active_on(today)
        assignment.can_end = (
            not has_ended(assignment.end_date, today)
            and request.user.has_perm("tenants.delete_roleassignment", assignment.tenant)
        )
    context = {
        "managed_user": user,
        "assignments": assignments,
        "can_manage": can_manage_user(request.user, user, "tenants.change_user", assignments),
        "can_unblock": can_manage_user(request.user, user, "tenants.unblock_user", assignments),
        "can_give_role": request.user.has_perm("tenants.add_roleassignment", request.tenant),
        "is_locked_out": services.user_is_locked_out(user),
        # Two-factor login (tenants/two_factor.py): whether it is on, and who may reset it.
        "has_second_factor": two_factor.has_second_factor(user),
        "can_reset_two_factor": can_manage_user(request.user, user, "tenants.reset_two_factor", assignments),
    }
    return render(request, "tenants/user_detail.html", context)


@environment_required
@require_http_methods(["GET", "POST"])
def role_assignment_create(request, pk: int):
    require_perm(request, "tenants.add_roleassignment")
    user = get_user_or_404(request, pk)
    tenants = _assignable_tenants(request)
    form = RoleAssignmentForm(
        request.POST or None,
        tenants=Tenant.objects.filter(pk__in=[t.pk for t in tenants]).order_by("path"),
        initial={"tenant": request.tenant},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.role_assignment_create(
                actor=request.user, user=user, tenant=data["tenant"], role=data["role"],
                start_date=data["start_date"], end_date=data["end_date"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(user)s now has the role %(role)s in %(tenant)s.")
                % {"user": user.username, "role": data["role"].label, "tenant": data["tenant"].name},
            )
            return redirect("user_detail", pk=user.pk)
    return render(request, "tenants/role_assignment_form.html", {"managed_user": user, "form": form})


@environment_required
@require_http_methods(["GET", "POST"])
def role_assignment_end(request, pk: int, assignment_pk: int):
    require_perm(request, "tenants.view_user")
    user = get_user_or_404(request, pk)
    assignment = get_object_or_404(
        RoleAssignment.objects.select_related("role", "tenant"),
        request.tenant.subtree_filter("tenant"), pk=assignment_pk, user=user,
    )
    require_perm(request, "tenants.delete_roleassignment", assignment.tenant)
    if request.method == "POST":
        services.role_assignment_end(actor=request.user, assignment=assignment)
        messages.success(
            request,
            _("The role %(role)s in %(tenant)s has been taken away from %(user)s.")
            % {"role": assignment.role.label, "tenant": assignment.tenant.name, "user": user.username},
        )
        return redirect("user_detail", pk=user.pk)
    return render(
        request, "tenants/role_assignment_end.html", {"managed_user": user, "assignment": assignment}
    )


@environment_required
@require_POST
def user_block(request, pk: int):
    user = get_user_or_404(request, pk)
    _require_manage(request, user, "tenants.change_user")
    try:
        services.user_block(actor=request.user, user=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(user)s has been blocked.") % {"user": user.username})
    return redirect("user_detail", pk=user.pk)


@environment_required
@require_POST
def user_unblock(request, pk: int):
    user = get_user_or_404(request, pk)
    _require_manage(request, user, "tenants.unblock_user")
    services.user_unblock(actor=request.user, user=user)
    messages.success(request, _("%(user)s can log in again.") % {"user": user.username})
    return redirect("user_detail", pk=user.pk)


@environment_required
@require_POST
def user_send_invitation(request, pk: int):
    user = get_user_or_404(request, pk)
    _require_manage(request, user, "tenants.change_user")
    services.user_send_set_password_link(actor=request.user, user=user)
    messages.success(
        request, _("A link to choose a password has been sent to %(email)s.") % {"email": user.email}
    )
    return redirect("user_detail", pk=user.pk)


@environment_required
@require_http_methods(["GET", "POST"])
def user_temporary_password(request, pk: int):
    user = get_user_or_404(request, pk)
    _require_manage(request, user, "tenants.change_user")
    form = TemporaryPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_set_temporary_password(
            actor=request.user, user=user, password=form.cleaned_data["new_password1"]
        )
        messages.success(
            request,
            _("The temporary password for %(user)s has been set. They must choose their own at the next login.")
            % {"user": user.username},
        )
        return redirect("user_detail", pk=user.pk)
    return render(request, "tenants/temporary_password.html", {"managed_user": user, "form": form})
