"""The import screens end to end through the test client: template, upload, mapping, check,
error file, preview, import, double submit, undo; and the duplicates list with merge."""

from __future__ import annotations

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports import services
from imports.models import ColumnMapping, DuplicateCandidate, ImportBatch, Merge
from memberships.models import FunctionType
from relations.models import CustomField, ExportLog, Relation
from tests.factories import make_relation

pytestmark = pytest.mark.django_db

GOOD = "Voornaam;Achternaam;Geboortedatum;Mobiel;Afdeling\r\nAnn;Smit;01-01-1990;0612345678;Afdeling 1.1\r\n"
BAD = "Voornaam;Achternaam;Geboortedatum;Mobiel;Afdeling\r\nAnn;Smit;31-02-1990;0612345678;Afdeling 1.1\r\nBob;;01-01-1990;;Afdeling 1.1\r\n"


def _upload(client, text: str, name: str = "leden.csv"):
    return client.post(reverse("import_upload"), {"file": SimpleUploadedFile(name, text.encode("cp1252"))})


def _check(client, batch: ImportBatch, **extra):
    membership = FunctionType.objects.get(code="department_member")
    data = {"action": "check", "encoding": batch.encoding, "function_type": membership.pk,
            **{f"col_{k}": v for k, v in batch.mapping.items()}}
    data.update(extra)
    return client.post(reverse("import_detail", kwargs={"pk": batch.pk}), data)


def test_it_offers_the_template_with_the_environments_custom_fields(federation, login):
    CustomField.objects.create(tenant=federation.province1, code="rijbewijs", label="Rijbewijs", field_type="boolean")
    client = login(federation.province_la)

    response = client.get(reverse("import_template", kwargs={"fmt": "xlsx"}))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    headers = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert headers[:5] == ["Relatienummer", "Voorletters", "Voornaam", "Tussenvoegsel", "Achternaam"]
    assert "Geboortedatum" in headers and "Rijbewijs" in headers and "Afdeling" in headers
    assert sheet.cell(row=2, column=headers.index("Geboortedatum") + 1).is_date

    response = client.get(reverse("import_template", kwargs={"fmt": "csv"}))
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == headers and rows[1][headers.index("Voornaam")] == "Jan"


def test_it_shows_the_first_rows_decoded_and_suggests_the_mapping(federation, login):
    client = login(federation.province_la)
    response = _upload(client, "Voornaam;Achternaam\r\nRené;Müller\r\n")
    page = client.get(response.url).content.decode()

    assert "Windows-1252" in page and "René" in page and "Müller" in page
    batch = ImportBatch.objects.get()
    assert batch.mapping == {"0": "first_name", "1": "last_name"}


def test_it_remembers_the_mapping_for_the_environment(federation, login):
    client = login(federation.province_la)
    _upload(client, "Roepnaam;Familie;Gebdat\r\nAnn;Smit;01-01-1990\r\n")
    batch = ImportBatch.objects.get()
    _check(client, batch, col_1="last_name", col_2="birth_date")
    assert ColumnMapping.objects.get(tenant=federation.province1).headers["familie"] == "last_name"

    _upload(client, "Familie;Roepnaam\r\nSmit;Ann\r\n")
    assert ImportBatch.objects.order_by("-created_at").first().mapping == {"0": "last_name", "1": "first_name"}


def test_it_names_errors_and_hands_back_the_file_with_an_error_column(federation, login):
    client = login(federation.province_la)
    _upload(client, BAD)
    batch = ImportBatch.objects.get()
    response = _check(client, batch)
    page = client.get(response.url).content.decode()

    assert "regel 2, Geboortedatum: 31-02-1990 bestaat niet." in page
    assert "regel 3, Achternaam: Vul de achternaam in." in page
    errors = client.get(reverse("import_errors", kwargs={"pk": batch.pk}))
    rows = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-1] == "Fouten"
    assert rows[1][:3] == ["Ann", "Smit", "31-02-1990"] and "bestaat niet" in rows[1][-1]
    assert Relation.objects.count() == 0
    assert list(ExportLog.objects.values_list("user", "rows")) == [(federation.province_la.pk, len(rows) - 1)]


def test_it_imports_after_the_preview_once_however_often_it_is_clicked(federation, login):
    client = login(federation.province_la)
    _upload(client, GOOD)
    batch = ImportBatch.objects.get()
    page = client.get(_check(client, batch).url).content.decode()
    assert "1 nieuwe relatie met een lidmaatschap" in page

    first = client.post(reverse("import_run", kwargs={"pk": batch.pk}), follow=True)
    second = client.post(reverse("import_run", kwargs={"pk": batch.pk}), follow=True)

    assert "De import is klaar: 1 aangemaakt, 0 bijgewerkt." in first.content.decode()
    assert "Dit bestand is al geïmporteerd." in second.content.decode()
    member = Relation.objects.get()
    assert (member.last_name, member.mobile, member.tenant) == ("Smit", "+31612345678", federation.department11)


def test_it_undoes_from_the_page(federation, login):
    client = login(federation.province_la)
    _upload(client, GOOD)
    batch = ImportBatch.objects.get()
    _check(client, batch)
    client.post(reverse("import_run", kwargs={"pk": batch.pk}))

    response = client.post(reverse("import_undo", kwargs={"pk": batch.pk}), follow=True)

    assert "De import is ongedaan gemaakt." in response.content.decode()
    assert Relation.objects.count() == 0


def test_it_says_what_is_wrong_with_a_bad_upload(federation, login):
    client = login(federation.province_la)
    response = _upload(client, "", name="leden.csv")
    assert response.status_code == 200
    assert "Het verstuurde bestand is leeg." in response.content.decode()
    response = _upload(client, "a;b\r\n1;2\r\n", name="leden.docx")
    assert "geen van beide" in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_it_lists_possible_duplicates_and_merges_two_cards(federation, login):
    birth = datetime.date(1980, 1, 1)
    a = make_relation(federation.department11, first_name="Jan", last_name="Jansen", birth_date=birth)
    b = make_relation(federation.department12, first_name="Jan", last_name="Janssen", birth_date=birth, city="Ede")
    client = login(federation.province_la)

    client.post(reverse("duplicate_scan"))
    page = client.get(reverse("duplicate_list")).content.decode()
    assert "Jan Jansen" in page and "Jan Janssen" in page and "zelfde geboortedatum, gelijkende naam" in page

    pair = DuplicateCandidate.objects.get()
    response = client.post(reverse("relation_merge", kwargs={"pk": pair.pk}), {"keep": "a", "field_last_name": "a", "field_city": "b"})

    kept = a if pair.relation_a_id == a.pk else b
    assert response.status_code == 302 and response.url == reverse("relation_detail", kwargs={"pk": kept.pk})
    kept.refresh_from_db()
    assert kept.city == "Ede"
    assert Merge.objects.get().kept == kept


def test_it_forgets_a_pair_marked_not_a_duplicate(federation, login):
    birth = datetime.date(1980, 1, 1)
    make_relation(federation.department11, first_name="Jan", last_name="Jansen", birth_date=birth)
    make_relation(federation.department12, first_name="Jan", last_name="Jansen", birth_date=birth)
    client = login(federation.province_la)
    client.post(reverse("duplicate_scan"))
    pair = DuplicateCandidate.objects.get()

    client.post(reverse("duplicate_dismiss", kwargs={"pk": pair.pk}))
    client.post(reverse("duplicate_scan"))

    assert "Geen mogelijke dubbelen gevonden." in client.get(reverse("duplicate_list")).content.decode()


def test_a_department_administrator_imports_from_the_ledenmodule_into_their_own_department_only(federation, login):
    client = login(federation.department_la)
    members = client.get(reverse("ledenmodule_member_list"))
    assert f'href="{reverse("import_list")}"' in members.content.decode()
    _upload(client, "Voornaam;Achternaam;Geboortedatum;Afdeling\r\nAnn;Smit;01-01-1990;\r\nBob;Bos;02-02-1990;Afdeling 1.2\r\n")
    batch = ImportBatch.objects.get(user=federation.department_la)
    assert batch.tenant == federation.department11
    _check(client, batch)
    batch.refresh_from_db()
    first, second = list(services.batch_rows(batch))
    assert (first["action"], first["function"]["department"]) == ("new", federation.department11.pk)
    assert second["action"] == "error"
    assert any("Afdeling 1.2" in message for _column, message in second["errors"])
    assert not Relation.objects.filter(last_name__in=["Smit", "Bos"]).exists()


def test_the_ledenmodule_offers_no_import_to_whoever_may_not_add_members(federation, login):
    from tenants.models import Role

    role = Role.objects.get(code="department_member_administrator")
    role.permissions.remove(*role.permissions.filter(codename="add_importbatch"))
    members = login(federation.department_la).get(reverse("ledenmodule_member_list"))
    assert members.status_code == 200 and b'data-testid="ledenmodule-import"' not in members.content
