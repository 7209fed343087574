"""The card's Privacy tab (GDPR, SPEC X3): download everything about the person, see who opened
the card, and erase the person on request. National only; the rules are in relations/privacy.py."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from tenants.access import environment_required, require_perm

from .. import privacy
from ..access import get_relation_or_404
from ..models import RelationView
from .card import card_context

VIEW_LOG_LIMIT = 500


class AnonymiseForm(forms.Form):
    """The erasure is confirmed twice: a box to tick and the relation number typed again."""

    understood = forms.BooleanField(
        label=gettext_lazy("I understand that this cannot be undone: the name, contact data, birth date and "
                           "free texts of this person are erased everywhere, history included."),
    )
    number = forms.CharField(label=gettext_lazy("Type the relation number to confirm"), max_length=20)

    def __init__(self, *args, relation, **kwargs):
        super().__init__(*args, **kwargs)
        self.relation = relation

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        if number != str(self.relation.number):
            raise ValidationError(_("This is not the number of this relation."))
        return number


def _privacy_page(request, relation, form, status=200):
    require_perm(request, "relations.view_relationview")
    views = RelationView.objects.filter(relation=relation).select_related("user")[:VIEW_LOG_LIMIT]
    context = {
        **card_context(request, relation, "privacy"),
        "views": views, "view_log_limit": VIEW_LOG_LIMIT, "form": form,
        "refusals": privacy.erasure_refusals(relation),
        "can_anonymise": request.user.has_perm("relations.anonymise_relation", request.tenant),
    }
    return render(request, "relations/relation_privacy.html", context, status=status)


@environment_required
@require_GET
def relation_privacy(request, pk: int):
    relation = get_relation_or_404(request, pk)
    return _privacy_page(request, relation, AnonymiseForm(relation=relation))


@environment_required
@require_GET
def relation_personal_data(request, pk: int):
    relation = get_relation_or_404(request, pk)
    require_perm(request, "relations.export_personal_data")
    content = privacy.personal_data_export(actor=request.user, tenant=request.tenant, relation=relation)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="persoonsgegevens-{relation.number}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@environment_required
@require_http_methods(["POST"])
def relation_anonymise(request, pk: int):
    relation = get_relation_or_404(request, pk)
    require_perm(request, "relations.anonymise_relation")
    form = AnonymiseForm(request.POST, relation=relation)
    if form.is_valid():
        try:
            privacy.relation_anonymise(actor=request.user, tenant=request.tenant, relation=relation)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Relation %(number)s has been anonymised.") % {"number": relation.number})
            return redirect("relation_detail", pk=relation.pk)
    return _privacy_page(request, relation, form, status=400)
