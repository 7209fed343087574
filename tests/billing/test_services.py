"""Rates, concepts, finalising, numbering, credit notes and payments, against oracles written
here by hand."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing import services
from billing.models import Invoice, InvoiceCounter, InvoiceStatus, Mandate
from tests.factories import give_function

from .world import MEMBER_IBANS, SEASON, YEAR, billing_environment, member, rate, run

TODAY = datetime.date.today()

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(federation):
    billing_environment(federation.province1)
    rate(federation.national, "40.00", name="Landelijk")
    rate(federation.province1, "25.00", name="Jeugd", age_to=17)
    rate(federation.province1, "50.00", name="Volwassen", age_from=18)
    return federation


def test_it_refuses_overlapping_rates(world):
    with pytest.raises(ValidationError, match="overlapt"):
        rate(world.province1, "30.00", name="Jong volwassen", age_from=16, age_to=25)
    with pytest.raises(ValidationError, match="overlapt"):
        rate(world.national, "41.00", name="Nog een")
    # Another season, or another environment, is no overlap.
    rate(world.province1, "55.00", season=datetime.date(YEAR + 1, 1, 1))
    rate(world.province2, "45.00")


def test_it_refuses_a_rate_for_aspirants_and_a_season_start_the_environment_does_not_have(world):
    with pytest.raises(ValidationError, match="gratis"):
        rate(world.province1, "10.00", code="aspirant_member", name="Aspirant")
    with pytest.raises(ValidationError) as error:
        rate(world.province1, "10.00", season=datetime.date(YEAR, 9, 1), name="Sept")
    assert "season_start" in error.value.message_dict


def test_it_computes_the_concept_with_age_bands_inheritance_and_aspirants(world):
    young = member(world.department11, "Jong", born=datetime.date(YEAR - 10, 6, 1))
    adult = member(world.department12, "Oud", born=datetime.date(1980, 1, 1))
    turning = member(world.department11, "Jarig", born=datetime.date(YEAR - 18, 1, 1))  # 18 on the reference date
    unknown = member(world.department11, "Onbekend", born=None)
    aspirant = member(world.department11, "Aspirant", code="aspirant_member")
    other = member(world.department21, "Ander")
    concept = services.run_concept(run=run(world.province1, world.province_sb))
    got = {line.relation_id: (line.amount, line.billable) for line in concept.lines}
    assert got == {
        young.pk: (Decimal("25.00"), True),
        adult.pk: (Decimal("50.00"), True),
        turning.pk: (Decimal("50.00"), True),
        unknown.pk: (Decimal("0.00"), False),
        aspirant.pk: (Decimal("0.00"), False),
    }
    assert other.pk not in got  # province 2's member: never billed by province 1
    # National bills province 2's member with the national rate (no province rate there).
    billing_environment(world.national)
    national = services.run_concept(run=run(world.national, world.national_sb))
    by_relation = {line.relation_id: line for line in national.lines}
    assert by_relation[other.pk].amount == Decimal("40.00")
    # Province 1 bills its own members: the federation's run leaves them out.
    assert young.pk not in by_relation


def test_it_charges_pro_rata_for_members_who_joined_during_the_season(world):
    joined = member(world.department11, "Nieuw", start=datetime.date(YEAR, 4, 15))
    concept = services.run_concept(run=run(world.province1, world.province_sb, pro_rata=True,
                                           reference=datetime.date(YEAR, 5, 1)))
    line = next(line for line in concept.lines if line.relation_id == joined.pk)
    # April to December: 9 of 12 months of 50.00.
    assert line.amount == Decimal("37.50")
    assert services.pro_rata_amount(Decimal("25.00"), season_start=SEASON, joined=datetime.date(YEAR, 12, 31)) == Decimal("2.08")
    assert services.pro_rata_amount(Decimal("25.00"), season_start=SEASON, joined=SEASON) == Decimal("25.00")


def test_it_finalises_with_gap_free_numbers_and_a_second_run_invoices_only_the_rest(world):
    first = [member(world.department11, f"Lid{n}") for n in range(3)]
    done = services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=world.province_sb)
    numbers = sorted(done.invoices.values_list("number", flat=True))
    assert numbers == [f"{datetime.date.today().year}-{n:06d}" for n in (1, 2, 3)]
    assert done.total == Decimal("150.00")
    with pytest.raises(ValidationError, match="al definitief gemaakt"):
        services.invoice_run_finalise(run_id=done.pk, actor=world.province_sb)
    late = member(world.department12, "Laat")
    second = services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=world.province_sb)
    assert list(second.invoices.values_list("relation_id", "number")) == [
        (late.pk, f"{datetime.date.today().year}-000004")
    ]
    assert {i.relation_id for i in done.invoices.all()} == {r.pk for r in first}
    with pytest.raises(ValidationError, match="niets te factureren"):
        services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=world.province_sb)


def test_it_gives_no_number_when_finalising_fails(world, monkeypatch):
    member(world.department11, "Lid")
    concept_run = run(world.province1, world.province_sb)

    insert = services._insert

    def broken(model, rows):
        if model is services.InvoiceLine:  # the invoices are written, then the lines fail
            raise RuntimeError("disk full")
        return insert(model, rows)

    monkeypatch.setattr(services, "_insert", broken)
    with pytest.raises(RuntimeError):
        services.invoice_run_finalise(run_id=concept_run.pk, actor=world.province_sb)
    assert not Invoice.objects.exists()
    assert not InvoiceCounter.objects.filter(value__gt=0).exists()
    monkeypatch.undo()
    services.invoice_run_finalise(run_id=concept_run.pk, actor=world.province_sb)
    assert Invoice.objects.get().number.endswith("-000001")


def test_it_credits_payments_and_statuses(world):
    relation = member(world.department11, "Betaler")
    services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=world.province_sb)
    invoice = Invoice.objects.get(relation=relation)
    with pytest.raises(ValidationError, match="maximaal"):
        services.credit_note_create(invoice=invoice, amount=Decimal("50.01"), reason="te veel", actor=world.province_sb)
    services.payment_register(invoice=invoice, amount=Decimal("20.00"), date=datetime.date.today(), actor=None)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == (InvoiceStatus.PARTLY_PAID, Decimal("30.00"))
    with pytest.raises(ValidationError, match="openstaande bedrag"):
        services.payment_register(invoice=invoice, amount=Decimal("30.01"), date=datetime.date.today(), actor=None)
    note = services.credit_note_create(invoice=invoice, amount=Decimal("30.00"), reason="korting", actor=world.province_sb)
    invoice.refresh_from_db()
    assert note.total == Decimal("-30.00") and note.number.endswith("-000002")
    assert invoice.status == InvoiceStatus.PAID
    # A credit note of the whole invoice frees the membership for another run this season.
    other = member(world.department11, "Crediteer")
    services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=world.province_sb)
    second = Invoice.objects.get(relation=other, kind="invoice")
    services.credit_note_create(invoice=second, amount=second.total, reason="vergissing", actor=world.province_sb)
    second.refresh_from_db()
    assert second.status == InvoiceStatus.CREDITED
    again = services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=world.province_sb)
    assert list(again.invoices.values_list("relation_id", flat=True)) == [other.pk]


def test_it_bills_departments_by_their_count_of_memberships(world):
    for n in range(3):
        member(world.department11, f"Elf{n}")
    member(world.department12, "Twaalf", born=datetime.date(YEAR - 12, 1, 1))
    give_function(member(world.department12, "Dubbel"), world.department11, "department_member",
                  start_date=datetime.date(YEAR - 1, 6, 1))
    billing_environment(world.national)
    done = services.invoice_run_finalise(
        run_id=run(world.national, world.national_sb, kind="departments").pk, actor=world.national_sb
    )
    totals = {i.debtor_tenant_id: i.total for i in done.invoices.all()}
    # Department 1.1: 4 adults × 50.00; department 1.2: one adult and one youth.
    assert totals == {world.department11.pk: Decimal("200.00"), world.department12.pk: Decimal("75.00")}


def test_it_mails_a_department_its_invoice_with_the_members_it_counted(world):
    import csv
    import io

    from django.core import mail
    from openpyxl import load_workbook

    from notifications.models import OutboundMail
    from notifications.services import outbound_mail_deliver
    from relations.models import ExportLog

    for n in range(3):
        member(world.department11, f"Elf{n}")
    give_function(member(world.department12, "Dubbel"), world.department11, "department_member",
                  start_date=datetime.date(YEAR - 1, 6, 1))
    member(world.department11, "Aspirant", code="aspirant_member")  # free: not counted
    member(world.department11, "Later", start=datetime.date(YEAR, 6, 1))  # not a member on the date
    world.department11.email = "penningmeester@elf.example.org"
    world.department11.save()
    billing_environment(world.national)
    done = services.invoice_run_finalise(
        run_id=run(world.national, world.national_sb, kind="departments").pk, actor=world.national_sb
    )
    invoice = done.invoices.get(debtor_tenant=world.department11)
    counted = sum(invoice.lines.values_list("quantity", flat=True))
    assert counted == 4 and invoice.counted_members.count() == counted
    assert services.invoice_document_make(invoice_id=invoice.pk, send=True)
    outbound = OutboundMail.objects.get(reference=f"invoice:{invoice.pk}")
    assert outbound.to_email == "penningmeester@elf.example.org"
    assert [a.name for a in outbound.attachments.all()] == [f"leden-{invoice.number}.csv", f"leden-{invoice.number}.xlsx"]
    logs = ExportLog.objects.filter(what__contains=invoice.number)
    assert sorted(logs.values_list("format", "rows", "user")) == [("csv", 4, world.national_sb.pk),
                                                                  ("xlsx", 4, world.national_sb.pk)]
    outbound_mail_deliver(mail_id=outbound.pk)
    [message] = mail.outbox
    names = [name for name, _content, _type in message.attachments]
    assert names == [f"{invoice.number}.pdf", f"leden-{invoice.number}.csv", f"leden-{invoice.number}.xlsx"]
    rows = list(csv.reader(io.StringIO(message.attachments[1][1].lstrip("\ufeff")), delimiter=";"))
    assert len(rows) - 1 == counted
    assert sorted(row[1] for row in rows[1:]) == ["Dubbel, Jan", "Elf0, Jan", "Elf1, Jan", "Elf2, Jan"]
    sheet = load_workbook(io.BytesIO(message.attachments[2][1])).active
    assert sheet.max_row - 1 == counted
    # Made again (a second worker): nothing is sent or logged twice.
    assert not services.invoice_document_make(invoice_id=invoice.pk, send=True)
    assert OutboundMail.objects.filter(reference=f"invoice:{invoice.pk}").count() == 1 and logs.count() == 2


# --- the person's rights (GDPR, issue 12): invoices and mandates in the export and the erasure ----


def test_it_puts_invoices_payments_and_mandates_in_the_export_and_refuses_erasure_while_open(world):
    from billing.privacy import BILLING
    from relations.privacy import erasure_refusals

    relation = member(world.department11, "Privacy")
    services.mandate_create(tenant=world.province1, relation=relation, reference="M-PRIV", signed_on=TODAY,
                            iban=MEMBER_IBANS[0], account_holder="", actor=None)
    services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=None)
    invoice = Invoice.objects.get(relation=relation)
    rows = BILLING.rows(relation)
    assert [row["kind"] for row in rows] == ["invoice", "mandate"]
    assert rows[0]["number"] == invoice.number and rows[0]["payment_reference"] == invoice.payment_reference
    assert rows[1]["iban"] == MEMBER_IBANS[0] and rows[1]["reference"] == "M-PRIV"
    # Still being collected: an open invoice, then an active mandate, stop an erasure, with the reason.
    assert "factuur" in " ".join(erasure_refusals(relation))
    services.payment_register(invoice=invoice, amount=invoice.total, date=TODAY, actor=None)
    assert "incassomachtiging" in " ".join(erasure_refusals(relation))
    # Settled and ended: the erasure keeps the invoice's number and amount, not the name.
    services.mandate_end(mandate=Mandate.objects.get(relation=relation))
    assert not [r for r in erasure_refusals(relation) if "factuur" in r.lower() or "machtiging" in r.lower()]
    BILLING.anonymise(relation)
    invoice.refresh_from_db()
    assert (invoice.number, invoice.total, invoice.debtor_name, invoice.debtor_email) == (
        invoice.number, invoice.total, "Geanonimiseerd", ""
    )
    assert Mandate.objects.get(relation=relation).iban == ""
