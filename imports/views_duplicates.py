"""Screens of "Mogelijke dubbelen": the list of candidate pairs, a scan on demand, "not a
duplicate", and merging two cards side by side."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relations.services import custom_fields_for
from tenants.access import environment_required, require_perm

from . import merge as merging
from .duplicates import REASONS, duplicate_dismiss
from .models import DuplicateCandidate
from .querysets import DUPLICATES_PERM
from .tasks import duplicate_scan_environment_task

PAGE_SIZE = 50


def get_candidate_or_404(request, pk: int) -> DuplicateCandidate:
    """A pair whose both cards the current environment shows to the user."""
    try:
        return (
            DuplicateCandidate.objects.visible_to(request.user, request.tenant)
            .select_related("relation_a__tenant", "relation_b__tenant")
            .get(pk=pk)
        )
    except DuplicateCandidate.DoesNotExist:
        raise Http404 from None


@environment_required
@require_GET
def duplicate_list(request):
    require_perm(request, DUPLICATES_PERM)
    order = "score" if request.GET.get("sort") == "score" else "-score"
    pairs = (
        DuplicateCandidate.objects.visible_to(request.user, request.tenant).open()
        .select_related("relation_a__tenant", "relation_b__tenant")
        .order_by(order, "relation_a_id", "relation_b_id")
    )
    page = Paginator(pairs, PAGE_SIZE).get_page(request.GET.get("page"))
    for pair in page:
        pair.reason_labels = [str(REASONS.get(r, r)) for r in pair.reasons]
    return render(request, "imports/duplicate_list.html", {
        "page": page, "order": order,
        "can_merge": request.user.has_perm(merging.MERGE_PERM, request.tenant) and request.tenant.kind != "department",
    })


@environment_required
@require_POST
def duplicate_scan(request):
    require_perm(request, DUPLICATES_PERM)
    duplicate_scan_environment_task.delay(request.user.pk, request.tenant.pk)
    messages.success(request, _("The search for duplicates has started; the list fills as it finds pairs."))
    return redirect("duplicate_list")


@environment_required
@require_POST
def duplicate_dismiss_view(request, pk: int):
    require_perm(request, DUPLICATES_PERM)
    candidate = get_candidate_or_404(request, pk)
    duplicate_dismiss(actor=request.user, candidate=candidate)
    messages.success(request, _("Marked as not a duplicate; the pair will not be shown again."))
    return redirect("duplicate_list")


@environment_required
@require_http_methods(["GET", "POST"])
def relation_merge(request, pk: int):
    require_perm(request, DUPLICATES_PERM)
    candidate = get_candidate_or_404(request, pk)
    if not request.user.has_perm(merging.MERGE_PERM, request.tenant) or request.tenant.kind == "department":
        raise PermissionDenied
    a, b = candidate.relation_a, candidate.relation_b
    keep_side = request.POST.get("keep", "a")
    keep, other = (a, b) if keep_side != "b" else (b, a)
    if request.method == "POST":
        values = {name: request.POST.get(f"field_{name}", "keep") for name in merging.CHOSEN_FIELDS}
        # The form names sides a and b; the service names them keep and other.
        values = {k: ("keep" if (v == keep_side) else "other") for k, v in values.items()}
        extra = {f.code: ("keep" if request.POST.get(f"extra_{f.code}", keep_side) == keep_side else "other")
                 for f in custom_fields_for(keep.tenant)}
        try:
            merging.relation_merge(actor=request.user, tenant=request.tenant, keep=keep, other=other,
                                   values=values, extra=extra)
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, _("The relations have been merged into %(relation)s.") % {"relation": keep})
            return redirect("relation_detail", pk=keep.pk)
    rows = merging.merge_fields(a, b)
    custom = [
        {"code": f.code, "label": f.label, "a": (a.extra or {}).get(f.code, ""), "b": (b.extra or {}).get(f.code, ""),
         "differs": (a.extra or {}).get(f.code) != (b.extra or {}).get(f.code)}
        for f in custom_fields_for(a.tenant)
    ]
    return render(request, "imports/relation_merge.html", {"candidate": candidate, "a": a, "b": b, "rows": rows, "custom": custom})
