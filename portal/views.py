"""The member portal's pages (SPEC L2): logging in by a one-time link, the member's own data,
memberships, invoices and mandate, correcting contact data and address, communication
preferences, the digital membership card (page, PDF, public verification) and the download of
everything about oneself. Administrators invite members from the card or a selection.

Every member page starts with `member_required`: the login's own card, or 404. A member reaches
nothing else (portal.middleware turns the administrators' 403 into 404 for them).
"""

from __future__ import annotations

import time
from contextlib import suppress
from functools import wraps

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relations import privacy
from relations import services as relation_services
from relations.access import get_relation_or_404
from relations.forms import add_service_error
from relations.models import ChangeRequest, Relation, RelationKind
from relations.selection import clean_query_string, list_url, selected_ids
from relations.views.card import relation_history_events
from tenants import two_factor
from tenants.access import environment_required, require_perm
from tenants.proxies import client_address, rate_limit_hit
from tenants.services import user_is_locked_out, user_password_changed
from tenants.sessions import SESSION_PENDING_LOGIN_KEY, login_session_record, user_sessions_end
from tenants.views.accounts import locked_out

from . import documents, services
from .forms import ContactForm, LoginLinkForm, PreferencesForm

AUTH_BACKEND = "tenants.backends.TenantRoleBackend"


def member_required(view):
    """Logged in, with a login that belongs to a card: the view gets that card. Anyone else
    (an administrator without a card of their own, an erased card) meets 404."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        relation = services.member_relation_of(request.user)
        if relation is None:
            raise Http404
        return view(request, relation, *args, **kwargs)

    return wrapper


# --- logging in ----------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def login_request(request):
    """Ask for a login link with the e-mail address on one's card. The answer never tells whether
    the address is known; a card without an address is the department's to fill in."""
    form = LoginLinkForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        limit, window = settings.PORTAL_LINK_RATE_LIMIT, settings.PORTAL_LINK_RATE_WINDOW
        by_address = rate_limit_hit(
            "portal-link-address", client_address(request) or "unknown", limit=limit, window=window
        )
        by_account = rate_limit_hit("portal-link-account", email, limit=limit, window=window)
        if by_address or by_account:
            form.add_error(None, _("Too many login links asked for. Wait an hour and try again."))
            return render(request, "portal/login.html", {"form": form}, status=429)
        relation = services.member_relation_for_email(email)
        if relation is not None:
            # The address may belong to another person's login: then nothing is sent, and the
            # page says the same as always.
            with suppress(ValidationError):
                services.login_link_send(relation=relation, actor=None, invitation=False)
        return render(request, "portal/login_sent.html", {"email": email})
    return render(request, "portal/login.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def login_link(request, token: str):
    """The link from the mail. Opening it shows a button; only pressing it logs in and uses the
    link up (mail scanners that open links must not spend it). With a second factor the link
    counts as the password step, and the code is asked next."""
    try:
        link = services.login_link_check(token)
    except services.LinkRefused as refusal:
        return render(
            request,
            "portal/login.html",
            {"form": LoginLinkForm(), "refusal": refusal.message},
            status=400,
        )
    user = link.user
    if user_is_locked_out(user) or AxesProxyHandler.is_locked(
        request, credentials={"username": user.username}
    ):
        return locked_out(request)
    if request.method == "GET":
        return render(request, "portal/login_link.html")
    try:
        user = services.login_link_use(link)
    except services.LinkRefused as refusal:
        return render(
            request,
            "portal/login.html",
            {"form": LoginLinkForm(), "refusal": refusal.message},
            status=400,
        )
    user.backend = AUTH_BACKEND
    if two_factor.has_second_factor(user) or two_factor.two_factor_required(user):
        request.session.cycle_key()
        request.session[SESSION_PENDING_LOGIN_KEY] = {
            "user": user.pk,
            "backend": AUTH_BACKEND,
            "at": int(time.time()),
            "next": reverse("portal_home"),
        }
        return redirect(
            "login_two_factor" if two_factor.has_second_factor(user) else "two_factor_enrol"
        )
    auth_login(request, user, backend=AUTH_BACKEND)
    login_session_record(request=request, user=user)
    return redirect("portal_home")


# --- the member's own pages ------------------------------------------------------------------------


@member_required
@require_GET
def home(request, relation: Relation):
    context = {
        "relation": relation,
        "functions": services.member_functions(relation),
        "invoices": services.member_invoices(relation),
        "mandates": services.member_mandates(relation),
        "pending": ChangeRequest.objects.filter(
            relation=relation, status=ChangeRequest.Status.PENDING
        ).first(),
        "has_password": request.user.has_usable_password(),
    }
    return render(request, "portal/home.html", context)


@member_required
@require_http_methods(["GET", "POST"])
def contact_edit(request, relation: Relation):
    form = ContactForm(request.POST if request.method == "POST" else None, instance=relation)
    waiting = relation_services.approval_fields_for(relation.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            pending = relation_services.member_correction(
                actor=request.user, relation=relation, data=form.changed_data_values
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if pending is not None:
                messages.success(
                    request,
                    _(
                        "Your changes have been saved. Changes to %(fields)s wait for your department's approval."
                    )
                    % {
                        "fields": ", ".join(
                            str(form.fields[n].label).lower()
                            for n in pending.values
                            if n in form.fields
                        )
                    },
                )
            else:
                messages.success(request, _("Your changes have been saved."))
            return redirect("portal_home")
    context = {
        "form": form,
        "relation": relation,
        "waiting": [form[n] for n in waiting if n in form.fields],
    }
    return render(request, "portal/contact_form.html", context)


@member_required
@require_GET
def history(request, relation: Relation):
    return render(
        request,
        "portal/history.html",
        {"relation": relation, "events": relation_history_events(relation)},
    )


@member_required
@require_http_methods(["GET", "POST"])
def preferences(request, relation: Relation):
    types = list(relation_services.communication_types_for(relation.tenant))
    refused = relation_services.communication_refused_ids(relation)
    form = PreferencesForm(
        request.POST if request.method == "POST" else None, types=types, refused=refused
    )
    if request.method == "POST" and form.is_valid():
        relation_services.communication_preferences_set(relation=relation, refused=form.refused_ids)
        messages.success(request, _("Your preferences have been saved."))
        return redirect("portal_preferences")
    return render(request, "portal/preferences.html", {"form": form, "relation": relation})


@member_required
@require_http_methods(["GET", "POST"])
def password(request, relation: Relation):
    """A password is optional: with one, the member can also log in on the login page."""
    form = SetPasswordForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        form.save()
        user_password_changed(user=request.user)
        user_sessions_end(user=request.user, keep_session_key=request.session.session_key)
        # Saving a password gives the session a new hash: keep this session logged in.
        auth_login(request, request.user, backend=AUTH_BACKEND)
        login_session_record(request=request, user=request.user)
        messages.success(request, _("Your password has been saved."))
        return redirect("portal_home")
    return render(
        request,
        "portal/password.html",
        {"form": form, "relation": relation},
        status=400 if form.errors else 200,
    )


@member_required
@require_GET
def personal_data(request, relation: Relation):
    """Everything the federation holds about the member: the GDPR export of the Privacy tab."""
    content = privacy.personal_data_export(
        actor=request.user, tenant=relation.tenant, relation=relation
    )
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="persoonsgegevens-{relation.number}.zip"'
    )
    response["Cache-Control"] = "no-store"
    return response


# --- the digital membership card ---------------------------------------------------------------------


@member_required
@require_GET
def card(request, relation: Relation):
    cards = services.membership_cards(relation)
    return render(
        request,
        "portal/card.html",
        {
            "relation": relation,
            "cards": [(c, documents.qr_svg(c.verify_url)) for c in cards],
        },
    )


@member_required
@require_GET
def card_pdf(request, relation: Relation):
    cards = services.membership_cards(relation)
    if not cards:
        raise Http404
    response = HttpResponse(documents.card_pdf(cards), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="lidkaart-{relation.number}.pdf"'
    return response


@require_GET
def card_verify(request, token: str):
    """The QR code's address: only whether the holder is a member of the card's department
    today. A forged or altered address shows nothing at all."""
    verification = services.card_verify(token)
    if verification is None:
        return render(request, "portal/card_verify.html", {"verification": None}, status=404)
    return render(request, "portal/card_verify.html", {"verification": verification})


# --- invitations, by administrators ----------------------------------------------------------------


def _invitation_messages(request, result: services.InvitationResult) -> None:
    if result.invited:
        messages.success(
            request,
            ngettext(
                "%(count)d member has been invited to the member portal.",
                "%(count)d members have been invited to the member portal.",
                len(result.invited),
            )
            % {"count": len(result.invited)},
        )
    if result.without_email:
        messages.warning(
            request,
            _("No invitation for %(names)s: there is no e-mail address on the card.")
            % {"names": ", ".join(r.display_name for r in result.without_email)},
        )
    for relation, reason in result.refused:
        messages.error(request, f"{relation.display_name}: {reason}")


@environment_required
@require_POST
def invite(request, pk: int):
    relation = get_relation_or_404(request, pk)
    require_perm(request, "relations.change_relation", relation)
    _invitation_messages(
        request, services.invitations_send(actor=request.user, relations=[relation])
    )
    return redirect("relation_detail", pk=relation.pk)


@environment_required
@require_http_methods(["GET", "POST"])
def invite_selection(request):
    """Invite the relations ticked in the relation list (those the environment shows): the list
    opens this page with the selection, which asks for confirmation and then sends."""
    require_perm(request, "relations.change_relation")
    data = request.POST if request.method == "POST" else request.GET
    relations = list(
        Relation.objects.visible_to(request.user, request.tenant)
        .filter(pk__in=selected_ids(data.getlist("relation")), kind=RelationKind.PERSON)
        .order_by("last_name", "first_name", "number")
    )
    back_url = list_url(clean_query_string(data.get("next", "")))
    if request.method == "POST" and relations:
        _invitation_messages(
            request, services.invitations_send(actor=request.user, relations=relations)
        )
        return redirect(back_url)
    context = {
        "relations": relations,
        "without_email": [r for r in relations if not r.email],
        "back_url": back_url,
        "next": clean_query_string(data.get("next", "")),
    }
    # Posted without a person this environment shows: the page says to select first.
    return render(
        request,
        "portal/invite_selection.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


def card_panel(request, relation: Relation) -> dict | None:
    """The member portal on the relation card's Data tab: whether the person has logged in, and
    the invitation button for those who may change the card."""
    if relation.kind != RelationKind.PERSON or relation.anonymised_at is not None:
        return None
    if not request.user.has_perm("relations.change_relation", request.tenant):
        return None
    user = relation.user
    return {
        "relation": relation,
        "last_login": user.last_login if user else None,
        "has_login": user is not None,
    }
