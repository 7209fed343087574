"""Check: reading what Dutch users have, per-row errors in Dutch with the card's rules, nothing
written."""

from __future__ import annotations

import datetime

import pytest

from imports import services
from relations.models import Relation

pytestmark = pytest.mark.django_db

HEADER = "Voornaam;Achternaam;Geboortedatum;E-mailadres;Mobiel;Postcode;Huisnummer;Afdeling;Lidmaatschap\r\n"


def messy_cp1252() -> bytes:
    rows = [
        "Zoë;Brontë;3-4-1990;zoe@example.nl;612345678;1234ab;12a;Afdeling 1.1;Lid (afdelingsleden)",
        "Jan;van der Berg;1985-12-01;jan@example.nl;+31 6 1234 5679;1234 AB;3;Afdeling 1.2;Lid (afdelingsleden)",
        "Piet;de Groot;01-02-2001;piet@example.nl;0031612345670;5678CD;4;Afdeling 1.1;Lid (afdelingsleden)",
        "Zoë;Brontë;03-04-1990;zoe@example.nl;06-12345678;1234 AB;12;Afdeling 1.1;Lid (afdelingsleden)",
    ]
    return (HEADER + "\r\n".join(rows) + "\r\n").encode("cp1252")


def test_it_reads_a_messy_windows_1252_file_with_semicolons(upload):
    batch = upload(messy_cp1252())

    assert batch.encoding == "cp1252"
    rows = list(services.batch_rows(batch))
    assert [r["action"] for r in rows] == ["new", "new", "new", "duplicate"], rows
    first = rows[0]["data"]
    assert first["first_name"] == "Zoë" and first["last_name"] == "Brontë"
    assert first["birth_date"] == "1990-04-03"
    assert first["mobile"] == "+31612345678"
    assert first["postcode"] == "1234 AB"
    assert (first["house_number"], first["house_number_suffix"]) == (12, "a")
    assert rows[1]["data"]["infix"] == "van der" and rows[1]["data"]["last_name"] == "Berg"
    assert rows[2]["data"]["mobile"] == "+31612345670"
    assert rows[3]["first_line"] == 2
    assert Relation.objects.count() == 0


def test_it_names_row_and_column_of_each_error_in_dutch(upload):
    data = (HEADER + "Ann;Smit;31-02-2001;ann@example.nl;;1234;;Afdeling 1.1;Lid (afdelingsleden)\r\n").encode()
    batch = upload(data)

    texts = [services.error_text(*e) for e in services.row_errors(batch)]
    assert "regel 2, Geboortedatum: 31-02-2001 bestaat niet." in texts
    assert any(t.startswith("regel 2, Postcode: 1234 is onvolledig") for t in texts), texts
    assert batch.result["summary"]["error"] == 1


def test_it_uses_the_card_rules_for_a_missing_surname_and_a_future_birth_date(upload):
    future = (datetime.date.today() + datetime.timedelta(days=30)).strftime("%d-%m-%Y")
    data = (HEADER + f"Ann;;01-01-2000;ann@example.nl;;;;Afdeling 1.1;Lid (afdelingsleden)\r\n"
            f"Bob;Smit;{future};bob@example.nl;;;;Afdeling 1.1;Lid (afdelingsleden)\r\n").encode()
    batch = upload(data)

    texts = [services.error_text(*e) for e in services.row_errors(batch)]
    assert "regel 2, Achternaam: Vul de achternaam in." in texts, texts
    assert any(t.startswith("regel 3, Geboortedatum:") for t in texts), texts


def test_it_refuses_a_department_outside_the_users_subtree(upload, federation):
    data = (HEADER + "Ann;Smit;01-01-2000;ann@example.nl;;;;Afdeling 2.1;Lid (afdelingsleden)\r\n").encode()
    batch = upload(data, user=federation.department_la, tenant=federation.department11)

    texts = [services.error_text(*e) for e in services.row_errors(batch)]
    assert texts == ["regel 2, Afdeling: Afdeling 2.1 is geen afdeling in jouw omgeving."], texts


