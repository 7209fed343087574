"""The dashboard's own widgets: members now and a year ago, who joined and left this season, and
for the federation's system administrators the counts the nightly check had to correct."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenants.models import Tenant, User
from tenants.widgets import Widget, WidgetContent, WidgetFigure

from .counts import season_start, years_before
from .models import CountMismatch
from .reports import member_figures

REPORT_PERM = "relations.view_relation"
MISMATCH_PERM = "quality.view_dataproblem"


def _list_url(name: str, **params) -> str:
    return f"{reverse(name)}?{urlencode(params, doseq=True)}" if params else reverse(name)


def _not_built() -> WidgetContent:
    return WidgetContent(note=_("The counts have not been built yet: they are made every night (job “membership_counts”)."))


def members_content(*, user: User, tenant: Tenant, ledenmodule: bool = False) -> WidgetContent | None:
    today = timezone.localdate()
    figures = member_figures(tenant, today=today)
    if figures is None:
        return _not_built()
    ago = years_before(figures.day, 1)
    if ledenmodule:
        now_url = ago_url = reverse("ledenmodule_member_list")
    elif user.has_perm(REPORT_PERM, tenant):
        now_url = _list_url("relation_list", member_on=figures.day.isoformat())
        ago_url = _list_url("relation_list", member_on=ago.isoformat())
    else:
        now_url = ago_url = ""
    difference = figures.now - figures.year_ago
    return WidgetContent(
        figures=[
            WidgetFigure(_("Members on %(day)s") % {"day": formats.date_format(figures.day, "SHORT_DATE_FORMAT")},
                         figures.now, now_url),
            WidgetFigure(_("A year earlier"), figures.year_ago, ago_url),
            WidgetFigure(_("Difference"), f"{difference:+d}"),
        ],
    )


def season_content(*, user: User, tenant: Tenant, ledenmodule: bool = False) -> WidgetContent | None:
    today = timezone.localdate()
    figures = member_figures(tenant, today=today)
    if figures is None:
        return _not_built()
    if ledenmodule:
        url = ""
    elif user.has_perm(REPORT_PERM, tenant):
        url = reverse("dashboard_flow")
    else:
        url = ""
    mutations = ""
    if not ledenmodule and user.has_perm("wizards.view_wizard", tenant):
        mutations = _list_url("mutation_list", date_from=season_start(today).isoformat(), date_to=today.isoformat())
    return WidgetContent(
        figures=[
            WidgetFigure(_("Sign-ups"), figures.joined, mutations or url),
            WidgetFigure(_("Cancellations"), figures.left, mutations or url),
        ],
        note=_("Season %(season)s up to %(day)s.") % {
            "season": figures.season, "day": formats.date_format(figures.day, "SHORT_DATE_FORMAT")},
    )


def mismatch_content(*, user: User, tenant: Tenant, ledenmodule: bool = False) -> WidgetContent | None:
    """Only for the federation's system administrators: the counts the last nightly check found
    different from the raw rows (and corrected)."""
    if ledenmodule or tenant.depth != 1 or not user.has_perm(MISMATCH_PERM, tenant):
        return None
    latest = CountMismatch.objects.order_by("-found_on").values_list("found_on", flat=True).first()
    if latest is None:
        return WidgetContent(note=_("The nightly check found every count equal to the raw rows."))
    found = CountMismatch.objects.filter(found_on=latest).count()
    return WidgetContent(
        figures=[WidgetFigure(_("Counts corrected on %(day)s") % {"day": formats.date_format(latest, "SHORT_DATE_FORMAT")}, found)],
        note=_("Memberships were changed without the services; the counts were rebuilt from the rows."),
    )


WIDGETS = [
    Widget("members", gettext_lazy("Members"), 10, members_content),
    Widget("season", gettext_lazy("This season"), 20, season_content),
    Widget("count_mismatches", gettext_lazy("Count check"), 90, mismatch_content),
]
