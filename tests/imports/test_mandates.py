"""SEPA mandates in the import (SPEC B3): columns offered where the card would record a mandate,
checked by the card's rules with Dutch row errors, recorded in the import's transaction, taken
back by its undo."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from billing.models import Mandate
from billing.services import mandate_create
from imports import services
from imports.models import ImportBatch
from relations.models import Relation
from tests.billing.world import MEMBER_IBANS, billing_environment
from tests.factories import make_relation

pytestmark = pytest.mark.django_db

HEADER = "Voornaam;Achternaam;Geboortedatum;E-mailadres;Afdeling;Lidmaatschap;IBAN;Machtigingskenmerk;Datum ondertekening;BIC;Incassotype\r\n"
SIGNED = "01-02-2024"


def csv_of(*rows: str) -> bytes:
    return (HEADER + "\r\n".join(rows) + "\r\n").encode("utf-8")


def row(
    n: int,
    iban: str = "",
    reference: str = "",
    signed: str | None = None,
    bic: str = "",
    sequence: str = "",
) -> str:
    signed = (SIGNED if iban else "") if signed is None else signed
    return (
        f"Voor{n};Achter{n};01-01-1980;lid{n}@example.nl;Afdeling 1.1;Lid (afdelingsleden);"
        f"{iban};{reference};{signed};{bic};{sequence}"
    )


@pytest.fixture
def billing(federation):
    billing_environment(federation.province1)
    return federation


def test_it_offers_the_mandate_columns_only_where_mandates_are_recorded(upload, billing, login):
    batch = upload(csv_of(row(1, MEMBER_IBANS[0])), check=False)
    assert [batch.mapping[str(i)] for i in range(6, 11)] == [
        "mandate_iban",
        "mandate_reference",
        "mandate_signed_on",
        "mandate_bic",
        "mandate_sequence",
    ]
    template = (
        login(billing.province_la)
        .get(reverse("import_template", args=["csv"]))
        .content.decode("utf-8-sig")
    )
    assert (
        "IBAN (incasso);Machtigingskenmerk;Datum machtiging ondertekend" in template.splitlines()[0]
    )
    # Province 2 does not bill: an IBAN column there is no mandate, and the template has none.
    other = upload(
        csv_of(row(1, MEMBER_IBANS[0])),
        user=billing.province2_sb,
        tenant=billing.province2,
        check=False,
    )
    assert "mandate_iban" not in other.mapping.values()
    assert (
        "IBAN"
        not in login(billing.province2_sb)
        .get(reverse("import_template", args=["csv"]))
        .content.decode()
    )


def test_it_records_mandates_for_new_and_existing_cards_in_the_import(upload, billing):
    existing = make_relation(
        billing.department11,
        first_name="Voor2",
        last_name="Achter2",
        email="lid2@example.nl",
        birth_date=datetime.date(1980, 1, 1),
    )
    old = mandate_create(
        tenant=billing.province1,
        relation=existing,
        reference="OUD-1",
        signed_on=datetime.date(2020, 1, 1),
        iban=MEMBER_IBANS[3],
        account_holder="",
        actor=None,
    )
    batch = upload(
        csv_of(
            row(1, "nl20 ingb 0001 2345 67", reference="M-1"),
            row(2, MEMBER_IBANS[1], sequence="RCUR"),
            row(3),  # no mandate
        )
    )
    rows = list(services.batch_rows(batch))
    assert [r["action"] for r in rows] == ["new", "unchanged", "new"], rows
    assert [bool(r["parts"].get("billing_mandate")) for r in rows] == [True, True, False]

    services.import_run(actor=billing.province_la, batch_id=batch.pk)

    first = Mandate.objects.get(relation__last_name="Achter1")
    assert (
        first.tenant,
        first.reference,
        first.iban,
        first.bic,
        first.signed_on,
        first.sequence_type,
    ) == (
        billing.province1,
        "M-1",
        "NL20INGB0001234567",
        "INGBNL2A",
        datetime.date(2024, 2, 1),
        "FRST",
    )
    assert first.account_holder == "Voor1 Achter1" and first.created_by == billing.province_la
    second = Mandate.objects.get(relation=existing, ended_on__isnull=True)
    assert (
        second.sequence_type == "RCUR"
        and second.replaces == old
        and second.reference.startswith(f"LB{existing.number}-")
    )
    old.refresh_from_db()
    assert old.ended_on == datetime.date.today()
    assert not Mandate.objects.filter(relation__last_name="Achter3").exists()

    # The same file again: the cards already have these mandates, nothing is recorded twice.
    again = upload(csv_of(row(1, MEMBER_IBANS[0], reference="M-1"), row(2, MEMBER_IBANS[1])))
    assert [r["parts"].get("billing_mandate") for r in list(services.batch_rows(again))[:2]] == [{}, {}]

    # The undo takes the mandates back and makes the replaced one active again.
    services.import_undo(actor=billing.province_la, batch_id=batch.pk)
    assert list(Mandate.objects.filter(relation=existing).values_list("reference", "ended_on")) == [
        ("OUD-1", None)
    ]
    assert not Relation.objects.filter(last_name="Achter1").exists()


def test_it_names_wrong_mandate_cells_in_dutch_by_line_and_writes_nothing(upload, billing):
    taken = make_relation(billing.department12, last_name="Bezet")
    mandate_create(
        tenant=billing.province1,
        relation=taken,
        reference="BEZET",
        signed_on=datetime.date(2023, 1, 1),
        iban=MEMBER_IBANS[2],
        account_holder="",
        actor=None,
    )
    future = (datetime.date.today() + datetime.timedelta(days=3)).strftime("%d-%m-%Y")
    batch = upload(
        csv_of(
            row(1, "NL91ABNA0417164301"),
            row(2, "1234"),
            row(3, MEMBER_IBANS[0], signed=future),
            row(4, MEMBER_IBANS[0], reference="BEZET"),
            row(5, MEMBER_IBANS[0], reference="DUBBEL"),
            row(6, MEMBER_IBANS[1], reference="DUBBEL", bic="XX", sequence="soms"),
            row(7, reference="ZONDER-IBAN"),
            row(8, MEMBER_IBANS[0], signed=""),
            row(9, MEMBER_IBANS[0], signed="31-02-2024"),
        )
    )
    errors = [services.error_text(*e) for e in services.row_errors(batch)]
    assert errors == [
        "regel 2, IBAN: NL91ABNA0417164301 heeft een verkeerd controlecijfer; controleer het nummer.",
        "regel 3, IBAN: 1234 is geen geldig IBAN.",
        "regel 4, Datum ondertekening: Een machtiging kan niet in de toekomst zijn ondertekend.",
        "regel 5, Machtigingskenmerk: Dit machtigingskenmerk is al in gebruik.",
        "regel 7, BIC: XX is geen geldige BIC.",
        "regel 7, Incassotype: soms is geen FRST (eerste incasso) of RCUR (herhaalde incasso).",
        "regel 8, IBAN: Vul het IBAN van de machtiging in.",
        "regel 9, Datum ondertekening: Vul de datum in waarop de machtiging is ondertekend.",
        "regel 10, Datum ondertekening: 31-02-2024 bestaat niet.",
    ], errors
    with pytest.raises(services.ImportRefused):
        services.import_run(actor=billing.province_la, batch_id=batch.pk)
    assert (
        Mandate.objects.count() == 1
        and not Relation.objects.filter(last_name__startswith="Achter").exists()
    )

    # Two rows with one reference: the second is named.
    doubled = upload(
        csv_of(
            row(1, MEMBER_IBANS[0], reference="DUBBEL"), row(2, MEMBER_IBANS[1], reference="DUBBEL")
        )
    )
    assert [services.error_text(*e) for e in services.row_errors(doubled)] == [
        "regel 3, Machtigingskenmerk: Regel 2 heeft dit machtigingskenmerk al."
    ]


def test_it_refuses_the_whole_import_when_a_reference_was_taken_after_the_check(upload, billing):
    batch = upload(csv_of(row(1), row(2, MEMBER_IBANS[0], reference="LAAT")))
    assert batch.status == ImportBatch.Status.CHECKED and not services.row_errors(batch)
    mandate_create(
        tenant=billing.province1,
        relation=make_relation(billing.department11, last_name="Sneller"),
        reference="LAAT",
        signed_on=datetime.date(2023, 1, 1),
        iban=MEMBER_IBANS[2],
        account_holder="",
        actor=None,
    )
    with pytest.raises(services.ImportRefused) as refusal:
        services.import_run(actor=billing.province_la, batch_id=batch.pk)
    assert refusal.value.messages == [
        "regel 3, Machtigingskenmerk: Dit machtigingskenmerk is al in gebruik."
    ]
    # Nothing half-written: neither card nor mandate.
    assert (
        not Relation.objects.filter(last_name__startswith="Achter").exists()
        and Mandate.objects.count() == 1
    )


def test_it_keeps_an_import_whose_mandate_was_collected_since(upload, billing):
    batch = upload(csv_of(row(1, MEMBER_IBANS[0])))
    services.import_run(actor=billing.province_la, batch_id=batch.pk)
    Mandate.objects.filter(source=f"import:{batch.pk}").update(reversals=1)
    assert "geïncasseerd" in services.undo_refusal(ImportBatch.objects.get(pk=batch.pk))
    with pytest.raises(services.ImportRefused):
        services.import_undo(actor=billing.province_la, batch_id=batch.pk)
    assert Mandate.objects.count() == 1


def test_it_shows_the_mandates_in_the_preview_and_imports_them_through_the_pages(
    upload, billing, login
):
    client = login(billing.province_la)
    upload_response = client.post(
        reverse("import_upload"), {"file": _file(csv_of(row(1, MEMBER_IBANS[0])))}
    )
    batch = ImportBatch.objects.get()
    assert upload_response.status_code == 302
    mapping = {f"col_{k}": v for k, v in batch.mapping.items()}
    client.post(
        reverse("import_detail", args=[batch.pk]),
        {**mapping, "action": "check", "start_date": "01-01-2024"},
    )
    page = client.get(reverse("import_detail", args=[batch.pk])).content.decode()
    assert "Vast te leggen incassomachtigingen: 1" in page
    client.post(reverse("import_run", args=[batch.pk]))
    assert Mandate.objects.get().relation.last_name == "Achter1"


def _file(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("leden.csv", data, content_type="text/csv")
