"""Exports of a relation search: CSV for Excel and XLSX, inactive relations, escaping, logging."""

import csv
import datetime
import io
import logging

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from memberships.models import Function
from relations import exports
from relations.exports import csv_cell, with_column_data
from relations.filters import RelationFilter, as_text, export_columns
from relations.models import CustomField, ExportLog, Relation
from relations.services import custom_fields_for
from tenants.models import Role
from tests.factories import UserFactory, give_function, give_role, make_relation

pytestmark = pytest.mark.django_db

# The export reads value tuples only where the database orders inside an aggregate (the
# memberships column's STRING_AGG … ORDER BY: PostgreSQL, SQLite from 3.44); elsewhere it reads
# models, by design (relations.exports.ExportRows).
tuples_only = pytest.mark.skipif(
    not connection.features.supports_aggregate_order_by_clause,
    reason="this database cannot order inside an aggregate: the export reads models",
)

TODAY = datetime.date.today()
CSV = reverse("relation_export", args=["csv"])
XLSX = reverse("relation_export", args=["xlsx"])
HYPERLINK = '=HYPERLINK("http://example.com/?x","Klik")'


@pytest.fixture
def world(federation):
    CustomField.objects.create(tenant=federation.province1, code="diploma", label="Diploma", field_type="text")
    r = {}
    r["jansen"] = make_relation(
        federation.department11, first_name="Piet", last_name="Jansen", city="Utrecht",
        birth_date=datetime.date(1990, 5, 1), extra={"diploma": "Trainer B"},
    )
    r["evil"] = make_relation(
        federation.department11, first_name="@SUM(1+1)", last_name=HYPERLINK, city="+31 6 1234",
        street="-2+3", email="evil@example.org",
    )
    r["accent"] = make_relation(federation.department12, first_name="Zoë", last_name="Çelik", city="Ede")
    # Visible in province 1 through its home, but no function there any more: inactive.
    r["former"] = make_relation(
        federation.department12, first_name="Otto", last_name="Oud", start_date=TODAY - datetime.timedelta(days=400)
    )
    Function.objects.filter(relation=r["former"]).update(end_date=TODAY - datetime.timedelta(days=5))
    # Province 2 home, current board function in department 1.1: active in province 1.
    r["guest"] = make_relation(federation.department21, first_name="Gast", last_name="Bestuur")
    give_function(r["guest"], federation.department11, "department_board_member")
    r["other"] = make_relation(federation.department21, first_name="Ander", last_name="Provincie")
    return r


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def by_number(rows) -> dict[str, list[str]]:
    return {row[0]: row for row in rows[1:]}


def xlsx_sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return workbook.worksheets[0]


# --- CSV ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"), ("+31", "'+31"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"), ("\rx", "'\rx"), ("Jansen", "Jansen"), ("a=b", "a=b"), ("", ""), (None, ""),
        (datetime.date(2024, 3, 9), "09-03-2024"), (12, "12"),
    ],
)
def test_it_makes_formula_like_cells_harmless(value, expected):
    assert csv_cell(value) == expected


def test_it_exports_csv_for_excel(federation, world, login):
    response = login(federation.province_sb).get(CSV)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="relaties-provincie-1-' in response["Content-Disposition"]
    rows = csv_rows(response)
    header = rows[0]
    assert len(header) > 20
    assert "Diploma" in header  # the custom field
    jansen = dict(zip(header, by_number(rows)[str(world["jansen"].number)], strict=True))
    assert jansen["Diploma"] == "Trainer B"
    assert "01-05-1990" in jansen.values()
    assert "Afdeling 1.1" in jansen.values()


def test_it_uses_semicolons_and_keeps_accents(federation, world, login):
    response = login(federation.province_sb).get(CSV)
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    assert content.splitlines()[0].count(";") >= 20
    assert "Zoë" in content and "Çelik" in content


def test_it_escapes_cells_starting_with_a_formula_character(federation, world, login):
    rows = csv_rows(login(federation.province_sb).get(CSV))
    evil = by_number(rows)[str(world["evil"].number)]
    assert "'" + HYPERLINK in evil
    assert "'@SUM(1+1)" in evil
    assert "'+31 6 1234" in evil
    assert "'-2+3" in evil
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


# The oracle of exports: visible in the environment AND a current function in its subtree.
EXPECTED_ACTIVE = {
    "national_sb": {"jansen", "evil", "accent", "guest", "other"},
    "province_sb": {"jansen", "evil", "accent", "guest"},
    "department_la": {"jansen", "evil", "guest"},
    "province2_sb": {"guest", "other"},
}


@pytest.mark.parametrize("role", sorted(EXPECTED_ACTIVE))
def test_it_exports_what_each_role_may_see_without_the_inactive(federation, world, login, role):
    rows = csv_rows(login(federation.users[role]).get(CSV))
    assert set(by_number(rows)) == {str(world[k].number) for k in EXPECTED_ACTIVE[role]}


def test_it_includes_inactive_relations_when_asked(federation, world, login):
    rows = csv_rows(login(federation.province_sb).get(CSV, {"inactive": "1"}))
    assert set(by_number(rows)) == {str(world[k].number) for k in ("jansen", "evil", "accent", "guest", "former")}


def test_it_exports_the_current_search(federation, world, login):
    client = login(federation.province_sb)
    rows = csv_rows(client.get(CSV, {"q": "jans"}))
    assert set(by_number(rows)) == {str(world["jansen"].number)}
    rows = csv_rows(client.get(CSV, {"city__equals": ["Utrecht", "Ede"], "sort": "-number"}))
    assert [row[0] for row in rows[1:]] == [str(world["accent"].number), str(world["jansen"].number)]


def test_it_sends_a_search_with_errors_back_to_the_list(federation, world, login):
    response = login(federation.province_sb).get(CSV, {"birth_date__from": "gisteren", "q": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("relation_list") + "?")
    assert "birth_date__from=gisteren" in response["Location"]


def test_it_logs_every_export(federation, world, login, caplog):
    client = login(federation.province_sb)
    with caplog.at_level(logging.INFO, logger="ledenbeheer.exports"):
        csv_rows(client.get(CSV))
        xlsx_sheet(client.get(XLSX, {"q": "jans"}))
    records = [r for r in caplog.records if r.name == "ledenbeheer.exports"]
    # The CSV stream is logged when it starts and, with its row count, when it ends.
    assert [(r.username, r.tenant_id, r.format, r.rows) for r in records] == [
        ("province_sb", federation.province1.pk, "csv", None),
        ("province_sb", federation.province1.pk, "csv", 4),
        ("province_sb", federation.province1.pk, "xlsx", 1),
    ]
    assert records[0].getMessage().startswith("province_sb starts exporting relations as csv")
    assert records[1].getMessage().startswith("province_sb exported 4 relations as csv")
    assert list(ExportLog.objects.order_by("pk").values_list("format", "rows")) == [("csv", 4), ("xlsx", 1)]


def test_it_logs_a_csv_download_that_is_broken_off(federation, world, login):
    response = login(federation.province_sb).get(CSV)
    stream = iter(response.streaming_content)
    next(stream)  # the header left; the browser goes away
    # Logged already, before the rest was sent: who, from where, what.
    [log] = ExportLog.objects.all()
    assert (log.user, log.tenant, log.format) == (federation.province_sb, federation.province1, "csv")


def test_it_reads_the_rows_in_chunks_without_a_query_per_row(federation, world, login, django_assert_max_num_queries):
    for i in range(30):
        make_relation(federation.department11, last_name=f"Lid{i}")
    client = login(federation.province_sb)
    client.get(reverse("relation_list"))
    with django_assert_max_num_queries(12):
        rows = csv_rows(client.get(CSV))
    assert len(rows) == 1 + 34


def _export_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        csv_rows(client.get(CSV))
    return len(queries)


@tuples_only
def test_it_makes_as_many_queries_for_many_rows_as_for_few(federation, world, login, monkeypatch):
    # Chunks of 5 rows: 45 rows are read in 9 chunks, and still in the same queries as 4 rows.
    monkeypatch.setattr(exports, "CHUNK_SIZE", 5)
    client = login(federation.province_sb)
    client.get(reverse("relation_list"))
    few = _export_queries(client)
    for i in range(41):
        relation = make_relation(federation.department11, last_name=f"Lid{i}", birth_date=datetime.date(2001, 1, 2))
        give_function(relation, federation.department12, "department_member")
    many = _export_queries(client)
    assert many == few
    assert len(csv_rows(client.get(CSV))) == 1 + 45


def _csv_text(rows) -> str:
    output = io.StringIO()
    csv.writer(output, delimiter=";", lineterminator="\r\n").writerows(rows)
    return output.getvalue()


@tuples_only
def test_it_writes_the_cells_from_values_as_the_columns_show_them_on_models(federation, world):
    # Every kind of column: choices, dates, empty numbers, custom fields of every type, a home
    # environment and memberships in two departments; the tuples give what the models give.
    for code, field_type in [("sinds", "date"), ("vog", "boolean"), ("maat", "number"), ("kleur", "choice")]:
        CustomField.objects.create(
            tenant=federation.province1, code=code, label=code, field_type=field_type, choices="rood\n=blauw",
        )
    jansen = world["jansen"]
    give_function(jansen, federation.department12, "department_member")
    make_relation(
        federation.department12, kind="organisation", organisation_name="-Club", gender="", house_number=12,
        magazine_delivery="blocked", extra={"sinds": "2020-02-29", "vog": True, "maat": 42, "kleur": "=blauw"},
    )
    leeg = make_relation(federation.department12, last_name="Leeg", extra={"vog": False, "maat": -3})
    # A value the field no longer accepts (stored before the rules changed) shows as it is.
    Relation.objects.filter(pk=leeg.pk).update(extra={"sinds": "morgen", "vog": False, "maat": -3})
    search = RelationFilter(QueryDict(), tenant=federation.province1, custom_fields=custom_fields_for(federation.province1))
    columns = export_columns(search.columns)
    queryset = Relation.objects.visible_to(federation.province_sb, federation.province1).order_by("number")
    rows = exports.ExportRows(queryset, columns, federation.province1)
    assert rows.reads is not None  # read as tuples, not models
    models = list(with_column_data(queryset, columns, federation.province1))
    assert _csv_text(rows.csv_cells()) == _csv_text([[csv_cell(c.value(r)) for c in columns] for r in models])
    assert [[as_text(v) for v in row] for row in rows.values()] == [
        [as_text(c.value(r)) for c in columns] for r in models
    ]
    assert "Afdeling 1.1, Afdeling 1.2" in _csv_text(rows.csv_cells())


def test_it_reads_models_for_a_column_without_a_path(federation, world):
    search = RelationFilter(QueryDict(), tenant=federation.province1)
    columns = [search.columns["name"], search.columns["number"], search.columns["departments"]]
    queryset = Relation.objects.visible_to(federation.province_sb, federation.province1).order_by("number")
    rows = exports.ExportRows(queryset, columns, federation.province1)
    assert rows.reads is None
    expected = [[c.value(r) for c in columns] for r in with_column_data(queryset, columns, federation.province1)]
    assert list(rows.values()) == expected
    assert list(rows.csv_cells()) == [[csv_cell(v) for v in row] for row in expected]
    assert ["Jansen, Piet", str(world["jansen"].number), "Afdeling 1.1"] in list(rows.csv_cells())


def test_a_page_read_by_its_ids_has_the_rows_and_cells_of_the_page_read_from_its_query(federation, world):
    """The relation list reads a sorted page by its ids (`ListedRows.by_ids`, its SQL kept per
    columns, environment, day and order on PostgreSQL): the same rows, in the same order, with the
    same cells as from the page's queryset, for every page and after a change of the data."""
    CustomField.objects.create(tenant=federation.province1, code="maat", label="Maat", field_type="number")
    give_function(world["jansen"], federation.department12, "department_member")
    search = RelationFilter(QueryDict(), tenant=federation.province1, custom_fields=custom_fields_for(federation.province1))
    columns = [search.columns[key] for key in ("number", "name", "city", "departments", "extra_diploma", "extra_maat")]
    visible = Relation.objects.visible_to(federation.province_sb, federation.province1)
    ordering = ["last_name", "first_name", "number"]
    ids = list(visible.order_by(*ordering).values_list("pk", flat=True))

    def build(page_ids):
        return Relation.objects.filter(pk__in_list=page_ids).order_by(*ordering)

    def rows(read):
        return [(row.pk, row.display_name, [as_text(v) for v in row.values]) for row in read]

    listed = exports.ListedRows(columns, federation.province1)
    for page in (ids, ids[:2], ids[2:]):
        assert rows(listed.by_ids(page, build, tuple(ordering))) == rows(listed(build(page)))
    Relation.objects.filter(pk=world["jansen"].pk).update(city="Zwolle", extra={"diploma": "Trainer C", "maat": 3})
    by_ids = rows(listed.by_ids(ids, build, tuple(ordering)))
    assert by_ids == rows(listed(build(ids)))
    jansen = next(cells for pk, _name, cells in by_ids if pk == world["jansen"].pk)
    assert jansen[2:] == ["Zwolle", "Afdeling 1.1, Afdeling 1.2", "Trainer C", "3"]
    assert listed.by_ids([], build, tuple(ordering)) == []


# --- XLSX ---------------------------------------------------------------------------------------


def test_it_exports_xlsx_that_openpyxl_reads(federation, world, login):
    sheet = xlsx_sheet(login(federation.province_sb).get(XLSX))
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert "Diploma" in header
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {world[k].number for k in ("jansen", "evil", "accent", "guest")}
    jansen = dict(zip(header, next(r for r in rows[1:] if r[0] == world["jansen"].number), strict=True))
    assert jansen["Diploma"] == "Trainer B"
    assert datetime.datetime(1990, 5, 1) in jansen.values()


def test_it_writes_formula_like_text_as_text_in_xlsx(federation, world, login):
    sheet = xlsx_sheet(login(federation.province_sb).get(XLSX))
    cells = [cell for row in sheet.iter_rows() for cell in row]
    evil = [cell for cell in cells if isinstance(cell.value, str) and cell.value.startswith(("=", "@", "+", "-"))]
    assert {cell.value for cell in evil} >= {HYPERLINK, "@SUM(1+1)", "+31 6 1234", "-2+3"}
    assert all(cell.data_type == "s" for cell in evil)  # text, never a formula


def test_it_includes_inactive_relations_in_xlsx_when_asked(federation, world, login):
    sheet = xlsx_sheet(login(federation.province_sb).get(XLSX, {"inactive": "1"}))
    assert world["former"].number in {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}


# --- access -------------------------------------------------------------------------------------


def test_it_refuses_exports_without_the_export_permission(federation, world, login):
    role = Role.objects.create(code="viewer", name="Viewer", tenant_kind="province")
    role.permissions.set(Permission.objects.filter(codename__in=["view_tenant", "view_relation"]))
    viewer = UserFactory(tenant=federation.province1)
    give_role(viewer, federation.province1, "viewer")
    client = login(viewer)
    assert client.get(reverse("relation_list")).status_code == 200
    assert client.get(CSV).status_code == 403
    assert client.get(XLSX).status_code == 403


def test_it_refuses_exports_to_an_outsider(federation, world, login):
    assert login(federation.outsider).get(CSV).status_code == 403


def test_it_knows_only_csv_and_xlsx(federation, login):
    assert login(federation.province_sb).get(reverse("relation_export", args=["pdf"])).status_code == 404


def test_it_shows_export_links_with_the_current_query(federation, world, login):
    response = login(federation.province_sb).get(reverse("relation_list"), {"q": "jans", "inactive": "1", "page": "1"})
    content = response.content.decode()
    assert f'href="{CSV}?q=jans&amp;inactive=1"' in content
    assert f'href="{XLSX}?q=jans&amp;inactive=1"' in content
