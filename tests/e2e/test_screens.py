"""Screens that hold on a phone and pass axe-core, in Chromium (issue 16, points 11 and 12): every
main page of every role (and the login page, and the member portal) at 375 px wide scrolls only up
and down, and axe-core finds no serious or critical violation on it, neither at 375 px nor at
1280 px, where the navigation bar with the language switch is open."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from memberships.models import Function
from tests.factories import give_function, make_relation, make_wizard
from tests.portal.test_portal import MEMBER_DATA
from wizards.models import Section, Wizard

from .test_login_and_environments import log_in
from .test_portal import LINK

pytestmark = pytest.mark.browser

TODAY = datetime.date.today()
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

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
    """Open `url` at the window's width; what scrolls sideways (on a phone) and what axe-core calls
    serious."""
    width = page.viewport_size["width"]
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: HTTP {response and response.status}"
    problems = []
    if width == PHONE["width"]:
        problems += [f"{url} scrolls sideways: {', '.join(found)}" for found in [page.evaluate(SIDEWAYS_JS)] if found]
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    problems += [f"{url} at {width} px axe: {violation}" for violation in page.evaluate(AXE_JS)]
    return problems


def screens_problems(page: Page, urls: list[str]) -> list[str]:
    """Every page once on a phone (375 px) and once on a desktop (1280 px), in one browser tab."""
    problems = []
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        problems += [problem for url in urls for problem in page_problems(page, url)]
    return problems


def _log_in_to_the_portal(page: Page, mailoutbox, email: str) -> None:
    """Log a member in as a member does (tests/e2e/test_portal.py): ask for a link, open it, press
    its button."""
    page.goto(reverse("portal_login"))
    page.locator("input[name=email]").fill(email)
    page.get_by_role("button", name="Stuur me een inloglink").click()
    expect(page.get_by_test_id("link-sent")).to_be_visible()
    page.goto(LINK.search(mailoutbox[-1].body).group(1))
    with page.expect_navigation():
        page.get_by_test_id("use-link").click()


@pytest.fixture
def world(federation):
    member = make_relation(federation.department11, first_name="Maximiliaan", last_name="Van Oosterhout-Wijnbergen",
                           email="maximiliaan.vanoosterhout@example.org", city="Westervoort", postcode="6931 AA")
    give_function(member, federation.department11, "department_chair", actor=federation.province_sb)
    Function.objects.filter(relation=member, function_type__code="department_member").update(
        cancellation_note="Een lange toelichting die op een telefoon niet naast de knoppen past"
    )
    # An ended function: its row is greyed out, its red Delete button must stay readable.
    give_function(member, federation.department11, "department_board_member", end_date=TODAY,
                  actor=federation.province_sb)
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
    pages = _administration_pages(world)
    if role.endswith("_sb"):
        pages += [reverse("custom_field_list"), reverse("intake_form_list"), reverse("import_list")]
    if role == "national_sb":
        # The province's own wizard is edited there, not at national level.
        pages = [p for p in pages if p != reverse("wizard_edit", args=[world["wizard"].pk])]
    if role.endswith("_la"):
        left_out = {reverse("wizard_edit", args=[world["wizard"].pk]), reverse("user_list"), reverse("invoice_list"),
                    reverse("quality_problem_list")}
        pages = [p for p in pages if p not in left_out]
    problems = screens_problems(page, pages)
    assert not problems, "\n".join(problems)


def test_the_login_page_holds_on_a_phone_and_passes_axe(page: Page, federation):
    # Logged out, the language switch stays in view on a phone too.
    problems = screens_problems(page, [reverse("login"), reverse("portal_login")])
    assert not problems, "\n".join(problems)


def test_the_province_system_administrators_pages_hold_on_a_phone_and_pass_axe(page: Page, federation, world):
    _check_role(page, world, "province_sb")


def test_the_province_member_administrators_pages_hold_on_a_phone_and_pass_axe(page: Page, federation, world):
    _check_role(page, world, "province_la")


def test_the_national_system_administrators_pages_hold_on_a_phone_and_pass_axe(page: Page, federation, world):
    _check_role(page, world, "national_sb")


def test_the_national_member_administrators_pages_hold_on_a_phone_and_pass_axe(page: Page, federation, world):
    _check_role(page, world, "national_la")


def test_the_ledenmodule_holds_on_a_phone_and_passes_axe(page: Page, federation, world):
    log_in(page, "department_la")
    member = world["member"]
    wizard = Wizard.objects.filter(section=Section.LEDENMODULE).order_by("pk").first()
    pages = [
        reverse("ledenmodule_member_list"), reverse("ledenmodule_member_detail", args=[member.pk]),
        reverse("ledenmodule_member_edit", args=[member.pk]), reverse("ledenmodule_member_search"),
        reverse("ledenmodule_reports"), reverse("ledenmodule_report_run", args=[wizard.pk]) + f"?day={TODAY:%d-%m-%Y}",
        reverse("ledenmodule_organisation"), reverse("ledenmodule_my_history"),
    ]
    problems = screens_problems(page, pages)
    assert not problems, "\n".join(problems)


def test_the_member_portal_holds_on_a_phone_and_passes_axe(page: Page, federation, mailoutbox):
    make_relation(federation.department11, **MEMBER_DATA)
    _log_in_to_the_portal(page, mailoutbox, MEMBER_DATA["email"])
    pages = [reverse(name) for name in ("portal_home", "portal_contact_edit", "portal_card", "portal_preferences",
                                        "portal_history", "portal_password")]
    problems = screens_problems(page, pages)
    assert not problems, "\n".join(problems)


# --- the flows of issue 16, points 8–10 and 13–16 ------------------------------------------------


def test_a_wrong_start_date_is_corrected_in_dd_mm_jjjj_and_shows_in_the_history(page: Page, federation):
    member = make_relation(federation.department11, first_name="Dirk", last_name="Datum")
    membership = Function.objects.get(relation=member)
    old = membership.start_date
    new = old - datetime.timedelta(days=40)
    log_in(page, "province_sb")

    page.goto(reverse("function_list", args=[member.pk]))
    page.get_by_test_id("function-dates").first.click()
    form = page.get_by_test_id("function-dates-form")
    start = form.locator("[name=start_date]")
    # Point 13: the date shows as dd-mm-jjjj and is typed that way.
    expect(start).to_have_value(f"{old:%d-%m-%Y}")
    expect(start).to_have_attribute("placeholder", "dd-mm-jjjj")
    start.fill(f"{new:%d-%m-%Y}")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("function-row").first).to_contain_text(f"{new:%d-%m-%Y}")

    page.goto(reverse("relation_history", args=[member.pk]))
    change = page.get_by_test_id("history-event").first
    expect(change.get_by_test_id("history-old")).to_have_text(f"{old:%d-%m-%Y}")
    expect(change.get_by_test_id("history-new")).to_have_text(f"{new:%d-%m-%Y}")


def test_an_unreachable_address_lookup_keeps_what_was_typed_and_says_so(page: Page, federation):
    member = make_relation(federation.department11, first_name="Anja", last_name="Adres",
                           postcode="6711 AB", house_number=12, street="Oudestraat", city="Ede")
    # A card loaded without history (the demo loader's old rows): its first change still shows old → new.
    member.history.all().delete()
    log_in(page, "province_sb")

    page.goto(reverse("relation_edit", args=[member.pk]))
    form = page.get_by_test_id("relation-form")
    form.locator("[name=postcode]").fill("1234 AB")
    form.locator("[name=street]").fill("Nieuwestraat")
    form.locator("[name=postcode]").dispatch_event("change")
    expect(page.get_by_test_id("address-unchecked")).to_be_visible()
    expect(form.locator("[name=street]")).to_have_value("Nieuwestraat")
    expect(form.locator("[name=postcode]")).to_have_value("1234 AB")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("relation-name")).to_have_text("Anja Adres")

    page.goto(reverse("relation_history", args=[member.pk]))
    event = page.get_by_test_id("history-event").first
    expect(event).to_contain_text("Oudestraat")
    expect(event).to_contain_text("Nieuwestraat")


def test_the_environment_list_narrows_to_the_function_type_and_searches(page: Page, federation):
    member = make_relation(federation.department11, first_name="Gijs", last_name="Gehouden")
    log_in(page, "national_sb")

    page.goto(reverse("function_add", args=[member.pk]))
    form = page.get_by_test_id("function-form")
    form.locator("[name=function_type]").select_option(label="Lid (afdelingsleden)")
    visible = form.locator("[name=tenant] option:not([hidden])")
    expect(visible).to_have_count(5)  # the empty choice and the four departments
    page.get_by_test_id("environment-search").fill("1.2")
    expect(visible).to_have_count(2)
    expect(form.locator("[name=tenant]")).to_have_value(str(federation.department12.pk))


def test_a_department_administrator_sees_the_ledenmodule_and_a_membership_ending_today_is_gone(page: Page, federation):
    from memberships import services

    leaving = make_relation(federation.department11, first_name="Vera", last_name="Vandaag")
    services.function_end(actor=federation.province_sb, function=Function.objects.get(relation=leaving),
                          end_date=TODAY)
    make_relation(federation.department11, first_name="Bram", last_name="Blijft")
    log_in(page, "department_la")

    page.goto(reverse("ledenmodule_member_list"))
    rows = page.get_by_test_id("member-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Blijft")
    # Outside the ledenmodule's own pages: no Relaties menu beside it.
    page.goto(reverse("department_invoice_list"))
    expect(page.get_by_test_id("nav-ledenmodule")).to_be_visible()
    expect(page.get_by_role("button", name="Relaties")).to_have_count(0)
    expect(page.get_by_role("link", name="Relaties")).to_have_count(0)
    # A wizard run from the reports opens in the ledenmodule's layout.
    page.goto(reverse("ledenmodule_reports"))
    page.get_by_test_id("ledenmodule-wizards").get_by_role("link").first.click()
    expect(page.get_by_test_id("ledenmodule-header")).to_be_visible()
    expect(page.get_by_test_id("wizard-run-form")).to_be_visible()


def test_the_federation_registers_through_a_provinces_form_and_a_wizard_takes_a_field_once(page: Page, federation):
    from tests.factories import make_intake_form

    make_intake_form(federation.province1)
    wizard = make_wizard(federation.national, {"field_key": "number"}, {"field_key": "phone"})
    log_in(page, "national_sb")

    page.goto(reverse("registration_list"))
    page.get_by_role("button", name="+ Inschrijving").click()
    expect(page.get_by_role("link", name="Inschrijfform_nieuw")).to_be_visible()

    page.goto(reverse("wizard_edit", args=[wizard.pk]))
    page.get_by_test_id("field-search").fill("telef")
    expect(page.get_by_test_id("catalogue-field-used")).to_have_count(1)
