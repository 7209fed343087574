"""Screens that hold on a phone and pass axe-core, in Chromium (issue 16, points 11 and 12): every
main page of every role at 375 px wide scrolls only up and down, and axe-core finds no serious or
critical violation on it."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from memberships.models import Function
from tests.factories import give_function, make_relation, make_wizard
from wizards.models import Section, Wizard

from .test_login_and_environments import log_in

pytestmark = pytest.mark.browser

TODAY = datetime.date.today()
PHONE = {"width": 375, "height": 740}

# The elements that stick out on the right, for the failure message.
SIDEWAYS_JS = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && box.width > 0 && getComputedStyle(el).visibility !== "hidden") {
      out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${[...el.classList].join(".")} (${Math.round(box.right)}px)`);
    }
  }
  return out.slice(0, 5);
}"""

AXE_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
}"""


@pytest.fixture(autouse=True)
def _offline_address_lookup(settings):
    settings.ADDRESS_LOOKUP = "ledenbeheer.addresses.NoLookup"


def page_problems(page: Page, url: str) -> list[str]:
    """Open `url` at phone width; what scrolls sideways and what axe-core calls serious."""
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: HTTP {response and response.status}"
    problems = [f"{url} scrolls sideways: {', '.join(found)}" for found in [page.evaluate(SIDEWAYS_JS)] if found]
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    problems += [f"{url} axe: {violation}" for violation in page.evaluate(AXE_JS)]
    return problems


@pytest.fixture
def world(federation):
    member = make_relation(federation.department11, first_name="Maximiliaan", last_name="Van Oosterhout-Wijnbergen",
                           email="maximiliaan.vanoosterhout@example.org", city="Westervoort", postcode="6931 AA")
    give_function(member, federation.department11, "department_chair", actor=federation.province_sb)
    Function.objects.filter(relation=member, function_type__code="department_member").update(
        cancellation_note="Een lange toelichting die op een telefoon niet naast de knoppen past"
    )
    wizard = make_wizard(federation.province1, {"field_key": "number"}, {"field_key": "name"},
                         {"field_key": "city"}, name="Leden per plaats met een lange naam")
    return {"member": member, "wizard": wizard}


def _card_pages(member) -> list[str]:
    return [reverse(name, args=[member.pk]) for name in ("relation_detail", "function_list", "relation_history")]


def _administration_pages(world) -> list[str]:
    wizard = world["wizard"]
    shipped = Wizard.objects.exclude(section=Section.LEDENMODULE).order_by("pk").first()
    return [
        "/", reverse("relation_list") + "?q=oost", *_card_pages(world["member"]), reverse("relation_create"),
        reverse("wizard_list"), reverse("wizard_run", args=[shipped.pk]) + f"?day={TODAY:%d-%m-%Y}",
        reverse("wizard_edit", args=[wizard.pk]), reverse("registration_list"), reverse("invoice_list"),
        reverse("quality_problem_list"), reverse("user_list"),
    ]


def _check_role(page: Page, world, role: str) -> None:
    log_in(page, role)
    page.set_viewport_size(PHONE)
    pages = _administration_pages(world)
    if role.endswith("_sb"):
        pages += [reverse("custom_field_list"), reverse("intake_form_list"), reverse("import_list")]
    if role == "national_sb":
        # The province's own wizard is edited there, not at national level.
        pages = [p for p in pages if p != reverse("wizard_edit", args=[world["wizard"].pk])]
    if role == "province_la":
        left_out = {reverse("wizard_edit", args=[world["wizard"].pk]), reverse("user_list"), reverse("invoice_list"),
                    reverse("quality_problem_list")}
        pages = [p for p in pages if p not in left_out]
    problems = [problem for url in pages for problem in page_problems(page, url)]
    assert not problems, "\n".join(problems)


def test_the_province_system_administrators_pages_hold_on_a_phone_and_pass_axe(page: Page, federation, world):
    _check_role(page, world, "province_sb")


def test_the_province_member_administrators_pages_hold_on_a_phone_and_pass_axe(page: Page, federation, world):
    _check_role(page, world, "province_la")


def test_the_national_system_administrators_pages_hold_on_a_phone_and_pass_axe(page: Page, federation, world):
    _check_role(page, world, "national_sb")


def test_the_ledenmodule_holds_on_a_phone_and_passes_axe(page: Page, federation, world):
    log_in(page, "department_la")
    page.set_viewport_size(PHONE)
    member = world["member"]
    wizard = Wizard.objects.filter(section=Section.LEDENMODULE).order_by("pk").first()
    pages = [
        reverse("ledenmodule_member_list"), reverse("ledenmodule_member_detail", args=[member.pk]),
        reverse("ledenmodule_member_edit", args=[member.pk]), reverse("ledenmodule_member_search"),
        reverse("ledenmodule_reports"), reverse("ledenmodule_report_run", args=[wizard.pk]) + f"?day={TODAY:%d-%m-%Y}",
        reverse("ledenmodule_organisation"), reverse("ledenmodule_my_history"),
    ]
    problems = [problem for url in pages for problem in page_problems(page, url)]
    assert not problems, "\n".join(problems)


