"""Addresses that receive more than one magazine ("Meerdere BNDR's op één adres", SPEC R7)."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from tenants.access import environment_required, require_perm

from .. import services
from ..models import MagazineDelivery, Relation

PAGE_SIZE = 25


def _receiving(request):
    """Visible members with an address who get the magazine automatically."""
    return (
        Relation.objects.visible_to(request.user, request.tenant)
        .members_on(datetime.date.today())
        .filter(magazine_delivery=MagazineDelivery.AUTOMATIC, house_number__isnull=False)
        .exclude(postcode="")
    )


def address_key(postcode: str, house_number: int, suffix: str) -> str:
    return f"{postcode}|{house_number}|{suffix}"


def _parse_address_key(key: str) -> tuple[str, int, str] | None:
    parts = key.split("|")
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1]), parts[2]


@environment_required
def magazine_addresses(request):
    require_perm(request, "relations.change_relation")
    receiving = _receiving(request)
    addresses = (
        receiving.values("postcode", "house_number", "house_number_suffix")
        .annotate(copies=Count("pk"))
        .filter(copies__gt=1)
        .order_by("postcode", "house_number", "house_number_suffix")
    )
    page = Paginator(addresses, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [dict(row, key=address_key(row["postcode"], row["house_number"], row["house_number_suffix"]), people=[])
            for row in page.object_list]
    if rows:
        at_these = Q()
        for row in rows:
            at_these |= Q(postcode=row["postcode"], house_number=row["house_number"],
                          house_number_suffix=row["house_number_suffix"])
        by_key = {row["key"]: row for row in rows}
        people = receiving.filter(at_these).order_by(F("birth_date").asc(nulls_last=True), "number")
        for person in people:
            row = by_key.get(address_key(person.postcode, person.house_number, person.house_number_suffix))
            if row is not None:
                row["people"].append(person)
    return render(request, "relations/magazine_addresses.html", {"page": page, "rows": rows})


@environment_required
@require_POST
def magazine_block(request):
    require_perm(request, "relations.change_relation")
    address = _parse_address_key(request.POST.get("address", ""))
    if address is None:
        messages.error(request, _("This address could not be found."))
        return redirect("magazine_addresses")
    postcode, house_number, suffix = address
    relations = list(
        _receiving(request).filter(postcode=postcode, house_number=house_number, house_number_suffix=suffix)
    )
    blocked = services.magazine_block_all_but_oldest(actor=request.user, relations=relations)
    if blocked:
        messages.success(
            request, ngettext(
                "The magazine is now blocked for %(count)s relation at this address; the oldest member keeps it.",
                "The magazine is now blocked for %(count)s relations at this address; the oldest member keeps it.",
                len(blocked),
            )
            % {"count": len(blocked)},
        )
    else:
        messages.info(request, _("Nothing to block: this address receives one magazine."))
    return redirect("magazine_addresses")
