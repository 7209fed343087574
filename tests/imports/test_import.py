"""Import: matching, one transaction, history "import <file> by <user>", undo within 14 days,
refusals that write nothing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from imports import services
from imports.models import ImportBatch, ImportChange, ImportRow
from memberships.models import Function
from relations.models import Relation
from relations.views.card import relation_history_events
from tests.factories import make_relation

pytestmark = pytest.mark.django_db

HEADER = "Relatienummer;Voornaam;Achternaam;Geboortedatum;E-mailadres;Postcode;Woonplaats;Afdeling;Lidmaatschap\r\n"


def csv_of(*rows: str) -> bytes:
    return (HEADER + "\r\n".join(rows) + "\r\n").encode("utf-8")


def new_row(n: int, department: str = "Afdeling 1.1") -> str:
    return f";Voor{n};Achter{n};01-01-1980;lid{n}@example.nl;1234 AB;Utrecht;{department};Lid (afdelingsleden)"


def test_it_creates_members_with_their_membership_and_history(upload, federation):
    batch = upload(csv_of(new_row(1), new_row(2, "Afdeling 1.2")), name="voorjaar.csv")

    batch = services.import_run(actor=federation.province_la, batch_id=batch.pk)

    assert (batch.status, batch.created_count, batch.updated_count) == ("imported", 2, 0)
    first = Relation.objects.get(last_name="Achter1")
    assert first.tenant == federation.department11
    function = Function.objects.get(relation=first)
    assert function.function_type.code == "department_member" and function.tenant == federation.department11
    record = first.history.latest()
    assert record.history_change_reason == "import voorjaar.csv door province_la"
    assert record.history_user == federation.province_la
    assert ImportChange.objects.filter(batch=batch).count() == 2


def test_it_matches_by_number_then_email_and_birth_date_then_name_birth_date_and_postcode(upload, federation):
    by_number = make_relation(federation.department11, last_name="Nummer", email="n@example.nl")
    by_email = make_relation(federation.department11, last_name="Mail", email="m@example.nl", birth_date=datetime.date(1970, 5, 1))
    by_name = make_relation(federation.department12, last_name="Naam", birth_date=datetime.date(1971, 6, 2), postcode="9999 ZZ")
    make_relation(federation.department21, last_name="Elders", email="e@example.nl", birth_date=datetime.date(1972, 1, 1))
    data = csv_of(
        f"{by_number.number};Nieuw;Nummer;;;;Amersfoort;;",
        ";Ma;Mail;01-05-1970;M@Example.nl;;Zeist;;",
        ";Na;Naam;02-06-1971;;9999zz;Ede;;",
        ";El;Elders;01-01-1972;e@example.nl;;;Afdeling 1.1;Lid (afdelingsleden)",
    )
    batch = upload(data)

    rows = list(services.batch_rows(batch))
    assert [(r["action"], r["relation"]) for r in rows] == [
        ("update", by_number.pk), ("update", by_email.pk), ("update", by_name.pk), ("new", None),
    ], rows
    assert rows[0]["changes"] == {"first_name": ["Jan", "Nieuw"], "city": ["", "Amersfoort"]}

    services.import_run(actor=federation.province_la, batch_id=batch.pk)

    by_number.refresh_from_db()
    assert (by_number.first_name, by_number.city, by_number.email) == ("Nieuw", "Amersfoort", "n@example.nl")
    assert by_number.history.latest().history_change_reason.startswith("import leden.csv door")


def test_it_names_a_second_row_for_the_same_card_at_the_check(upload, federation):
    card = make_relation(federation.department11, last_name="Twee", email="t@example.nl", birth_date=datetime.date(1970, 5, 1))
    # By number, and again by e-mail address and birth date: two people of the file, one card.
    batch = upload(csv_of(f"{card.number};Een;Twee;;;;Ede;;", ";Andere;Naam;01-05-1970;t@example.nl;;Zeist;;"))

    errors = [services.error_text(*e) for e in services.row_errors(batch)]
    assert errors == ["regel 3: Regel 2 werkt deze relatie al bij."], errors
    with pytest.raises(services.ImportRefused):
        services.import_run(actor=federation.province_la, batch_id=batch.pk)
    card.refresh_from_db()
    assert (card.first_name, card.city) != ("Een", "Ede")


def test_it_asks_which_card_an_ambiguous_row_is(upload, federation):
    one = make_relation(federation.department11, last_name="Twee", email="t@example.nl", birth_date=datetime.date(1980, 1, 1))
    two = make_relation(federation.department12, last_name="Twee", email="t@example.nl", birth_date=datetime.date(1980, 1, 1))
    batch = upload(csv_of(";Tweede;Twee;01-01-1980;t@example.nl;;Gouda;;"))
    assert list(services.batch_rows(batch))[0]["action"] == "ambiguous"
    assert list(services.batch_rows(batch))[0]["candidates"] == sorted([one.pk, two.pk])

    with pytest.raises(services.ImportRefused):
        services.import_run(actor=federation.province_la, batch_id=batch.pk)
    services.import_run(actor=federation.province_la, batch_id=batch.pk, choices={"2": str(two.pk)})

    two.refresh_from_db()
    one.refresh_from_db()
    assert (two.city, one.city) == ("Gouda", "")


def test_it_refuses_the_whole_check_when_one_of_ten_thousand_rows_is_bad(upload, federation):
    rows = [new_row(n) for n in range(10_000)]
    rows[7321] = rows[7321].replace("01-01-1980", "31-02-1980")
    batch = upload(csv_of(*rows))

    errors = services.row_errors(batch)
    assert [services.error_text(*e) for e in errors] == ["regel 7323, Geboortedatum: 31-02-1980 bestaat niet."]
    with pytest.raises(services.ImportRefused):
        services.import_run(actor=federation.province_la, batch_id=batch.pk)
    assert Relation.objects.count() == 0


def test_it_writes_nothing_when_a_row_fails_during_the_import(upload, federation):
    batch = upload(csv_of(*(new_row(n) for n in range(60))))
    # Something changed between the check and the import (another user, another rule): the
    # service refuses row 51, and the 49 rows before it are not kept either.
    stored = ImportRow.objects.get(batch=batch, line=51)
    stored.outcome["data"]["last_name"] = ""
    stored.save()

    with pytest.raises(services.ImportRefused) as refused:
        services.import_run(actor=federation.province_la, batch_id=batch.pk)

    assert "regel 51" in refused.value.messages[0]
    assert Relation.objects.count() == 0
    assert ImportBatch.objects.get(pk=batch.pk).status == "checked"


def test_it_refuses_a_second_click_on_import(upload, federation):
    batch = upload(csv_of(new_row(1)))
    services.import_run(actor=federation.province_la, batch_id=batch.pk)

    with pytest.raises(services.ImportRefused, match="al geïmporteerd"):
        services.import_run(actor=federation.province_la, batch_id=batch.pk)
    assert Relation.objects.count() == 1


def test_it_undoes_a_whole_import(upload, federation):
    existing = make_relation(federation.department11, last_name="Bestaand")
    batch = upload(csv_of(new_row(1), f"{existing.number};Anders;Bestaand;;;;Delft;;"))
    services.import_run(actor=federation.province_la, batch_id=batch.pk)
    assert Relation.objects.count() == 2

    services.import_undo(actor=federation.province_la, batch_id=batch.pk)

    assert list(Relation.objects.values_list("pk", flat=True)) == [existing.pk]
    existing.refresh_from_db()
    assert (existing.first_name, existing.city) == ("Jan", "")
    assert ImportBatch.objects.get(pk=batch.pk).status == "undone"
    # Who took it back, and why, in the history of both cards.
    restored = existing.history.latest()
    assert (restored.history_user, restored.history_change_reason) == (
        federation.province_la, f"import {batch.file_name} ongedaan gemaakt door province_la")
    deleted = Relation.history.filter(last_name="Achter1", history_type="-").get()
    assert (deleted.history_user, deleted.history_change_reason) == (
        federation.province_la, f"import {batch.file_name} ongedaan gemaakt door province_la")
    assert not Function.objects.filter(relation_id=deleted.id).exists()
    assert Function.history.get(relation_id=deleted.id, history_type="-").history_user == federation.province_la


def test_it_shows_old_and_new_values_when_an_import_first_changes_a_card_without_history(upload, federation):
    # Cards written before history was kept (the demo loader's COPY, data from the old system).
    existing = make_relation(federation.department11, last_name="Bestaand", city="Ede")
    kept = make_relation(federation.department11, last_name="Gevolgd", city="Epe")
    Relation.history.filter(id=existing.pk).delete()
    batch = upload(csv_of(f"{existing.number};Anders;Bestaand;;;;Delft;;", f"{kept.number};Ook;Gevolgd;;;;Ermelo;;"))

    services.import_run(actor=federation.province_la, batch_id=batch.pk)

    changes = [(c.old, c.new) for event in relation_history_events(existing) for c in event.changes]
    assert ("Jan", "Anders") in changes and ("Ede", "Delft") in changes
    first = Relation.history.filter(id=existing.pk).earliest("history_date")
    assert (first.history_type, first.city, first.history_date) == ("+", "Ede", existing.created_at)
    # A card that had history gets no second first row.
    assert Relation.history.filter(id=kept.pk, history_type="+").count() == 1
    # The first row dates from before the import: the import can still be taken back.
    services.import_undo(actor=federation.province_la, batch_id=batch.pk)
    existing.refresh_from_db()
    assert (existing.first_name, existing.city) == ("Jan", "Ede")


def test_it_refuses_undo_when_a_card_changed_since(upload, federation):
    from relations.services import relation_update

    batch = upload(csv_of(new_row(1)))
    services.import_run(actor=federation.province_la, batch_id=batch.pk)
    relation = Relation.objects.get()
    relation_update(actor=federation.province_sb, relation=relation, data={"city": "Zwolle"})

    with pytest.raises(services.ImportRefused) as refused:
        services.import_undo(actor=federation.province_la, batch_id=batch.pk)

    assert str(relation.number) in refused.value.messages[0]
    assert Relation.objects.count() == 1


def test_it_refuses_undo_after_fourteen_days(upload, federation):
    batch = upload(csv_of(new_row(1)))
    services.import_run(actor=federation.province_la, batch_id=batch.pk)
    ImportBatch.objects.filter(pk=batch.pk).update(imported_at=timezone.now() - datetime.timedelta(days=15))

    with pytest.raises(services.ImportRefused, match="14 dagen"):
        services.import_undo(actor=federation.province_la, batch_id=batch.pk)
    assert Relation.objects.count() == 1


def test_it_asks_about_a_card_with_the_same_surname_and_birth_date_elsewhere(upload, federation):
    moved = make_relation(federation.department12, last_name="Verhuisd", birth_date=datetime.date(1966, 6, 6), postcode="9999 AA")
    batch = upload(csv_of(";Vera;Verhuisd;06-06-1966;;1234 AB;Utrecht;Afdeling 1.1;Lid (afdelingsleden)"))

    row = list(services.batch_rows(batch))[0]
    assert (row["action"], row["candidates"]) == ("ambiguous", [moved.pk])
    services.import_run(actor=federation.province_la, batch_id=batch.pk, choices={"2": "new"})
    assert Relation.objects.filter(last_name="Verhuisd").count() == 2


def test_it_rechecks_the_imported_cards_once_after_the_commit(upload, federation, django_capture_on_commit_callbacks):
    from quality.models import DataProblem

    no_email = ";Voor3;Achter3;01-01-1980;;1234 AB;Utrecht;Afdeling 1.1;Lid (afdelingsleden)"
    batch = upload(csv_of(new_row(1), no_email))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.import_run(actor=federation.province_la, batch_id=batch.pk)
    card = Relation.objects.get(last_name="Achter3")
    # Not inside the import's transaction: the recheck waits for the commit, then runs for the file.
    assert not DataProblem.objects.filter(relation=card, rule="missing_email").exists()
    assert len(callbacks) == 1
    callbacks[0]()

    assert DataProblem.objects.filter(relation=card, rule="missing_email", closed_on__isnull=True).exists()
    assert services.import_recheck(batch.pk) == 2
