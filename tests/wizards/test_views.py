"""The wizard pages: running (grid, report, downloads) compared with an oracle per role, the
editor, copying, the ledenmodule rule, bad input, and the export log."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from memberships.models import Function
from relations.models import ExportLog, Relation
from tests.factories import give_function, make_relation, make_wizard
from wizards.models import Section, Wizard, WizardField

from .editor_data import edit_data

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture
def members(federation) -> dict[str, Relation]:
    """Members in every department, one at national level, a guest of 2.1 with a board function
    in 1.1, and a former member of 1.1 whose membership ended."""
    found = {
        key: make_relation(federation.tenants[key], last_name=f"Lid {key}", email=f"{key}@example.org")
        for key in ("department11", "department12", "department21", "department22")
    }
    found["national"] = make_relation(federation.national, last_name="Landelijk", function_code="national_board_member")
    found["guest"] = make_relation(federation.department21, last_name="Gast")
    give_function(found["guest"], federation.department11, "department_board_member")
    found["former"] = make_relation(federation.department11, last_name="Vroeger")
    Function.objects.filter(relation=found["former"]).update(end_date=TODAY - datetime.timedelta(days=5))
    return found


# The members of the member-list wizards each user's environment shows (written by hand):
# memberships on the reference date (today) held in the environment. The guest is a member of 2.1.
MEMBER_LIST_ORACLE = {
    "national_sb": {"department11", "department12", "department21", "department22", "guest"},
    "national_la": {"department11", "department12", "department21", "department22", "guest"},
    "province_sb": {"department11", "department12"},
    "province_la": {"department11", "department12"},
    "province2_sb": {"department21", "department22", "guest"},
    "department_la": {"department11"},
    "department21_la": {"department21", "guest"},
}


def _names(rows, members) -> set[str]:
    by_number = {str(r.number): key for key, r in members.items()}
    return {by_number[row[0]] for row in rows if row[0] in by_number}


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def _xlsx_rows(response) -> list[list[str]]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [["" if v is None else str(v) for v in row] for row in workbook.active.iter_rows(values_only=True)]


def _grid_rows(response) -> list[list[str]]:
    return [relation.cells for relation in response.context["rows"]]


@pytest.mark.parametrize("user_key", sorted(MEMBER_LIST_ORACLE))
def test_it_gives_every_role_the_members_its_environment_holds(user_key, federation, members, login):
    client = login(federation.users[user_key])
    code = "ledenmodule_member_list" if user_key.startswith("department") else "member_list"
    wizard = Wizard.objects.get(code=code)
    params = {"day": TODAY.isoformat()}
    grid = client.get(reverse("wizard_run", args=[wizard.pk]), params)
    assert grid.status_code == 200
    assert _names(_grid_rows(grid), members) == MEMBER_LIST_ORACLE[user_key]
    exported = client.post(reverse("wizard_export", args=[wizard.pk, "csv"]), params)
    csv_rows = _csv_rows(exported)
    # Read back, the download equals the grid, header included.
    assert csv_rows[0] == [c.label for c in grid.context["columns"]]
    assert csv_rows[1:] == _grid_rows(grid)
    xlsx_rows = _xlsx_rows(client.post(reverse("wizard_export", args=[wizard.pk, "xlsx"]), params))
    assert xlsx_rows[0] == csv_rows[0]
    assert [row[:2] for row in xlsx_rows[1:]] == [row[:2] for row in csv_rows[1:]]
    assert _names(xlsx_rows[1:], members) == MEMBER_LIST_ORACLE[user_key]


def test_it_never_exports_another_provinces_relation_to_a_province(federation, members, login):
    client = login(federation.province_sb)
    for wizard in Wizard.objects.exclude(section=Section.LEDENMODULE):
        response = client.post(reverse("wizard_export", args=[wizard.pk, "csv"]),
                               {"day": TODAY.isoformat(), "include_inactive": "on"})
        numbers = {row[0] for row in _csv_rows(response)[1:]}
        others = {str(members[k].number) for k in ("department21", "department22", "national")}
        assert not numbers & others, wizard.code


def test_it_refuses_a_part_outside_the_environment(federation, members, login):
    client = login(federation.province_sb)
    wizard = Wizard.objects.get(code="member_list")
    department21 = federation.department21.pk
    response = client.get(reverse("wizard_run", args=[wizard.pk]),
                          {"day": TODAY.isoformat(), "part": department21})
    assert response.status_code == 200
    assert "part" in response.context["form"].errors
    assert "show_result" not in response.context
    asked = wizard.fields.get(field_key="department")
    response = client.get(reverse("wizard_run", args=[wizard.pk]),
                          {"day": TODAY.isoformat(), f"ask_{asked.pk}": [department21]})
    assert f"ask_{asked.pk}" in response.context["form"].errors
    response = client.post(reverse("wizard_export", args=[wizard.pk, "csv"]),
                           {"day": TODAY.isoformat(), "part": department21})
    assert response.status_code == 302
    assert not ExportLog.objects.exists()


def test_it_refuses_a_date_that_is_not_one_and_a_reversed_range(federation, members, login):
    client = login(federation.province_sb)
    wizard = Wizard.objects.get(code="sign_ups")
    asked = wizard.fields.get(field_key="function_start")
    response = client.get(reverse("wizard_run", args=[wizard.pk]), {"day": "31-02-2026"})
    assert "is geen datum" in str(response.context["form"].errors["day"])
    response = client.get(reverse("wizard_run", args=[wizard.pk]), {
        "day": TODAY.isoformat(), f"ask_{asked.pk}": "2026-05-01", f"ask_{asked.pk}_to": "2026-04-01",
    })
    assert f"ask_{asked.pk}_to" in response.context["form"].errors
    assert "show_result" not in response.context


def test_it_narrows_a_run_to_a_part_of_the_environment(federation, members, login):
    client = login(federation.province_sb)
    wizard = Wizard.objects.get(code="member_list")
    response = client.get(reverse("wizard_run", args=[wizard.pk]),
                          {"day": TODAY.isoformat(), "part": federation.department12.pk})
    assert _names(_grid_rows(response), members) == {"department12"}


def test_it_shows_a_printable_report(federation, members, login):
    client = login(federation.national_sb)
    wizard = Wizard.objects.get(code="member_list")
    response = client.get(reverse("wizard_run", args=[wizard.pk]), {"day": TODAY.isoformat(), "output": "report"})
    assert response.status_code == 200
    assert _names(_grid_rows(response), members) == MEMBER_LIST_ORACLE["national_sb"]
    assert b'data-action="print"' in response.content
    # The printable report is a download of personal data too.
    [log] = ExportLog.objects.all()
    assert (log.user, log.format, log.rows) == (federation.national_sb, "print", len(_grid_rows(response)))


def test_it_shows_the_list_by_section_and_filters_it(federation, login):
    client = login(federation.national_sb)
    response = client.get(reverse("wizard_list"))
    sections = [group["code"] for group in response.context["groups"]]
    assert sections == ["standard", "ledenmodule", "mutation_checks"]
    response = client.get(reverse("wizard_list"), {"section": "ledenmodule"})
    assert [g["code"] for g in response.context["groups"]] == ["ledenmodule"]
    # A department administrator sees the ledenmodule wizards only.
    client = login(federation.department_la)
    response = client.get(reverse("wizard_list"))
    assert [g["code"] for g in response.context["groups"]] == ["ledenmodule"]


def test_it_keeps_the_original_untouched_when_copying(federation, login):
    client = login(federation.province_sb)
    original = Wizard.objects.get(code="member_list")
    before = list(original.fields.values_list("field_key", "order", "mode", "value", "label"))
    response = client.post(reverse("wizard_copy", args=[original.pk]), {"name": "Mijn ledenlijst"})
    copy = Wizard.objects.get(name="Mijn ledenlijst")
    assert response.url == reverse("wizard_edit", args=[copy.pk])
    assert copy.tenant == federation.province1 and copy.code is None
    assert list(copy.fields.values_list("field_key", "order", "mode", "value", "label")) == before
    # Editing the copy leaves the original as it was.
    client.post(reverse("wizard_field_add", args=[copy.pk]), {"field_key": "mobile"})
    copy.fields.filter(field_key="number").update(label="Lidnummer")
    original.refresh_from_db()
    assert original.name == "Ledenlijst per afdeling"
    assert list(original.fields.values_list("field_key", "order", "mode", "value", "label")) == before
    # The same name twice is refused.
    response = client.post(reverse("wizard_copy", args=[original.pk]), {"name": "mijn ledenlijst"})
    assert response.status_code == 200 and response.context["form"].errors["name"]


def _state(wizard: Wizard) -> list:
    return list(wizard.fields.order_by("pk").values_list("field_key", "order", "mode", "value", "value_to", "label"))


def test_it_saves_order_filters_and_own_labels(federation, login):
    client = login(federation.province_sb)
    wizard = make_wizard(federation.province1, {"field_key": "number"}, {"field_key": "birth_date"},
                         {"field_key": "city"})
    data = edit_data(wizard, number={"label": "Lidnummer", "order": 30}, city={"order": 5},
                      birth_date={"mode": "range", "value": "01-01-1990", "value_to": "31-12-2000"})
    response = client.post(reverse("wizard_edit", args=[wizard.pk]), data)
    assert response.status_code == 302
    fields = list(wizard.fields.all())
    assert [f.field_key for f in fields] == ["city", "birth_date", "number"]
    assert fields[1].value == "1990-01-01" and fields[1].value_to == "2000-12-31"
    assert fields[2].label == "Lidnummer"
    # Removing a field.
    data = edit_data(wizard, city={"DELETE": "on"})
    client.post(reverse("wizard_edit", args=[wizard.pk]), data)
    assert [f.field_key for f in wizard.fields.all()] == ["birth_date", "number"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"birth_date": {"mode": "range", "value": "2001-01-01", "value_to": "2000-01-01"}}, "voor het begin"),
        ({"birth_date": {"mode": "single", "value": "30-02-2001"}}, "is geen datum"),
        ({"number": {"mode": "range", "value": "tien"}}, "is geen getal"),
        ({"number": {"mode": "contains", "value": "1"}}, "geen beschikbare keuze"),
        ({"number": {"DELETE": "on"}, "birth_date": {"DELETE": "on"}}, "minstens één veld"),
        ({"number": {"shown": None}, "birth_date": {"shown": None}}, "minstens één veld"),
    ],
)
def test_it_refuses_bad_input_in_the_editor_and_saves_nothing(changes, message, federation, login):
    client = login(federation.province_sb)
    wizard = make_wizard(federation.province1, {"field_key": "number"}, {"field_key": "birth_date"})
    before = _state(wizard)
    response = client.post(reverse("wizard_edit", args=[wizard.pk]), edit_data(wizard, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _state(wizard) == before


def test_it_refuses_ledenmodule_editing_without_the_national_power(federation, login):
    wizard = Wizard.objects.get(code="ledenmodule_member_list")
    before = _state(wizard)
    data = edit_data(wizard, number={"label": "Nummer"})
    for user in ("national_la", "province_sb", "department_la"):
        response = login(federation.users[user]).post(reverse("wizard_edit", args=[wizard.pk]), data)
        assert response.status_code == 403, user
        response = login(federation.users[user]).post(reverse("wizard_field_add", args=[wizard.pk]),
                                                      {"field_key": "phone"})
        assert response.status_code == 403, user
        assert _state(wizard) == before
    response = login(federation.national_sb).post(reverse("wizard_edit", args=[wizard.pk]), data)
    assert response.status_code == 302
    assert wizard.fields.get(field_key="number").label == "Nummer"


def test_it_makes_a_provinces_copy_of_a_ledenmodule_wizard_an_ordinary_one(federation, login):
    wizard = Wizard.objects.get(code="ledenmodule_member_list")
    login(federation.province_sb).post(reverse("wizard_copy", args=[wizard.pk]), {"name": "Kopie"})
    assert Wizard.objects.get(name="Kopie").section == Section.OTHER
    login(federation.national_sb).post(reverse("wizard_copy", args=[wizard.pk]), {"name": "Kopie landelijk"})
    assert Wizard.objects.get(name="Kopie landelijk").section == Section.LEDENMODULE


def test_it_finds_fields_in_the_catalogue(federation, login):
    client = login(federation.province_sb)
    wizard = make_wizard(federation.province1, {"field_key": "number"})
    response = client.get(reverse("wizard_edit", args=[wizard.pk]), {"q": "telef"})
    assert [f.key for f in response.context["found"]] == ["phone"]
    response = client.get(reverse("wizard_edit", args=[wizard.pk]), {"q": "telef"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"catalogue-results" in response.content
    client.post(reverse("wizard_field_add", args=[wizard.pk]), {"field_key": "phone"})
    assert list(wizard.fields.values_list("field_key", flat=True)) == ["number", "phone"]
    client.post(reverse("wizard_field_add", args=[wizard.pk]), {"field_key": "no_such_field"})
    assert wizard.fields.count() == 2


def test_it_refuses_to_run_a_wizard_without_columns(federation, login):
    client = login(federation.province_sb)
    wizard = make_wizard(federation.province1, {"field_key": "number", "shown": False})
    response = client.get(reverse("wizard_run", args=[wizard.pk]), {"day": TODAY.isoformat()})
    assert "minstens één" in response.content.decode()
    response = client.post(reverse("wizard_export", args=[wizard.pk, "csv"]), {"day": TODAY.isoformat()})
    assert response.status_code == 302
    assert not ExportLog.objects.exists()


def test_it_logs_every_export(federation, members, login):
    client = login(federation.province_sb)
    wizard = Wizard.objects.get(code="member_list")
    b"".join(client.post(reverse("wizard_export", args=[wizard.pk, "csv"]), {"day": TODAY.isoformat()}).streaming_content)
    b"".join(client.get(reverse("relation_export", args=["xlsx"])).streaming_content)
    b"".join(client.get(reverse("mutation_list_export", args=["csv"]),
                        {"date_from": "2020-01-01", "date_to": TODAY.isoformat()}).streaming_content)
    logs = list(ExportLog.objects.order_by("pk").values_list("user__username", "tenant_id", "what", "format", "rows"))
    assert logs[0] == ("province_sb", federation.province1.pk, "Ledenlijst per afdeling", "csv", 2)
    assert logs[1][2:4] == ("Relaties zoeken", "xlsx")
    assert logs[2][2:4] == ("Mutatielijst", "csv")
    assert len(logs) == 3


def test_it_deletes_own_wizards_but_never_the_standard_ones(federation, login):
    client = login(federation.province_sb)
    wizard = make_wizard(federation.province1, {"field_key": "number"})
    assert client.post(reverse("wizard_delete", args=[wizard.pk])).status_code == 302
    assert not Wizard.objects.filter(pk=wizard.pk).exists()
    standard = Wizard.objects.get(code="member_list")
    assert login(federation.national_sb).post(reverse("wizard_delete", args=[standard.pk])).status_code == 403
    assert WizardField.objects.filter(wizard=standard).exists()


def test_it_keeps_the_number_of_queries_of_the_pages_bounded(federation, members, login, django_assert_max_num_queries):
    client = login(federation.province_sb)
    wizard = Wizard.objects.get(code="member_list")
    for index in range(30):
        make_relation(federation.department11, last_name=f"Extra {index}")
    with django_assert_max_num_queries(20):
        assert client.get(reverse("wizard_list")).status_code == 200
    # 26: the memberships column reads the environments' names once per run (wizards/runs.py).
    with django_assert_max_num_queries(26):
        assert client.get(reverse("wizard_run", args=[wizard.pk]), {"day": TODAY.isoformat()}).status_code == 200
    with django_assert_max_num_queries(26):
        assert client.get(reverse("wizard_run", args=[wizard.pk]),
                          {"day": TODAY.isoformat(), "output": "report"}).status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get(reverse("wizard_edit", args=[Wizard.objects.get(code="sign_ups").pk])).status_code in (200, 403)


@pytest.mark.parametrize("name", ["Leden 1/2 [oud]: wie*?", "'Leden'", "/[]:*?", "x" * 60])
def test_it_exports_xlsx_whatever_the_wizard_is_named(name, federation, members, login):
    client = login(federation.national_sb)
    wizard = Wizard.objects.get(code="member_list")
    wizard.name = name
    wizard.save(update_fields=["name"])
    response = client.post(reverse("wizard_export", args=[wizard.pk, "xlsx"]), {"day": TODAY.isoformat()})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    title = workbook.active.title
    assert title and len(title) <= 31 and not set(title) & set("\\/?*[]:") and not title.startswith("'")


def test_it_refuses_a_field_that_is_already_in_the_wizard(federation, login):
    client = login(federation.province_sb)
    wizard = make_wizard(federation.province1, {"field_key": "number"}, {"field_key": "phone"})

    response = client.post(reverse("wizard_field_add", args=[wizard.pk]), {"field_key": "phone"}, follow=True)

    assert list(wizard.fields.values_list("field_key", flat=True)) == ["number", "phone"]
    assert "al in de wizard" in response.content.decode()
    assert b'data-testid="catalogue-field-used"' in client.get(reverse("wizard_edit", args=[wizard.pk]), {"q": "telef"}).content


def test_it_saves_no_editor_form_that_holds_a_field_twice(federation, login):
    client = login(federation.province_sb)
    wizard = make_wizard(federation.province1, {"field_key": "number"}, {"field_key": "phone"})
    before = _state(wizard)
    data = edit_data(wizard)
    data["fields-1-field_key"] = "number"

    response = client.post(reverse("wizard_edit", args=[wizard.pk]), data)

    assert response.status_code == 200
    assert "twee keer in de wizard" in response.content.decode()
    assert _state(wizard) == before


def test_it_ships_no_wizard_with_a_field_twice():
    for wizard in Wizard.objects.prefetch_related("fields"):
        keys = [f.field_key for f in wizard.fields.all()]
        assert len(keys) == len(set(keys)), wizard.name
