"""quality's widget on the dashboard (tenants.widgets): the open data problems of the relations
this environment shows the user, linking to the error list."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relations.models import Relation
from tenants.models import Tenant, User
from tenants.widgets import Widget, WidgetContent, WidgetFigure

from . import services


def open_problems_content(*, user: User, tenant: Tenant, ledenmodule: bool = False) -> WidgetContent | None:
    if ledenmodule or not user.has_perm("quality.view_dataproblem", tenant):
        return None
    visible = Relation.objects.visible_to(user, tenant).values("pk")
    count = services.open_problems([rule.code for rule in services.active_rules()]).filter(relation__in=visible).count()
    return WidgetContent(
        figures=[WidgetFigure(_("Open data problems"), count, reverse("quality_problem_list"))],
        note="" if count else _("Nothing to complete: every card meets the checks."),
    )


OPEN_PROBLEMS = Widget("open_problems", gettext_lazy("Data problems"), 30, open_problems_content)
