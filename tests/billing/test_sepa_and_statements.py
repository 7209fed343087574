"""Mandates, pain.008 batches valid against the XSD shipped with sepaxml, CAMT.053 round trips
with reversals, and the invoice PDF read back with pypdf."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
import sepaxml
from django.core.exceptions import ValidationError
from lxml import etree

from billing import services
from billing.camt import StatementLine, camt053_build, camt053_from_batch
from billing.documents import invoice_pdf
from billing.models import BankEntry, BillingEnvironment, Invoice, InvoiceStatus, Mandate
from billing.references import invoice_numbers_in, rf_reference
from tests.factories import make_mail_template

from .world import MEMBER_IBANS, OWN_IBAN, YEAR, billing_environment, member, rate, run

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
SCHEMAS = Path(sepaxml.__file__).parent / "schemas"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}


@pytest.fixture
def world(federation):
    billing_environment(federation.province1)
    rate(federation.province1, "50.00")
    return federation


def _mandate(world, relation, iban, **fields):
    values = {"reference": f"M-{relation.number}", "signed_on": TODAY - datetime.timedelta(days=10),
              "account_holder": relation.display_name}
    values.update(fields)
    return services.mandate_create(tenant=world.province1, relation=relation, iban=iban, actor=None, **values)


def _finalise(world):
    return services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=world.province_sb)


def _validate(xml: bytes, schema: str = "pain.008.001.02") -> etree._Element:
    xsd = etree.XMLSchema(etree.parse(str(SCHEMAS / f"{schema}.xsd")))
    document = etree.fromstring(xml)
    xsd.assertValid(document)
    return document


def test_it_refuses_a_wrong_iban_and_a_mandate_signed_in_the_future(world):
    relation = member(world.department11, "Lid")
    with pytest.raises(ValidationError) as error:
        _mandate(world, relation, "NL92ABNA0417164300")
    assert "controlecijfer" in str(error.value.message_dict["iban"])
    with pytest.raises(ValidationError) as error:
        _mandate(world, relation, MEMBER_IBANS[0], signed_on=TODAY + datetime.timedelta(days=1))
    assert "toekomst" in str(error.value.message_dict["signed_on"])
    assert not Mandate.objects.exists()
    mandate = _mandate(world, relation, "nl20 ingb 0001 2345 67")
    assert (mandate.iban, mandate.bic, mandate.sequence_type) == ("NL20INGB0001234567", "INGBNL2A", "FRST")


def test_it_makes_a_pain008_valid_against_the_xsd_with_first_and_recurring_collections(world):
    first = member(world.department11, "Eerste")
    again = member(world.department11, "Weer")
    none = member(world.department11, "Zonder")
    _mandate(world, first, MEMBER_IBANS[0])
    _mandate(world, again, MEMBER_IBANS[1], first_collected_on=TODAY - datetime.timedelta(days=300))
    _finalise(world)
    with pytest.raises(ValidationError) as error:
        services.collection_batch_create(tenant=world.province1, collection_date=TODAY + datetime.timedelta(days=1),
                                         actor=world.province_sb)
    assert "collection_date" in error.value.message_dict
    batch = services.collection_batch_create(
        tenant=world.province1, collection_date=TODAY + datetime.timedelta(days=7), actor=world.province_sb
    )
    document = _validate(batch.file.read())
    assert document.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert document.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "100.00"
    sequences = {
        info.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS): [
            tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS) for tx in info.findall("p:DrctDbtTxInf", NS)
        ]
        for info in document.findall("p:CstmrDrctDbtInitn/p:PmtInf", NS)
    }
    numbers = dict(Invoice.objects.values_list("relation_id", "number"))
    assert sequences == {"FRST": [numbers[first.pk]], "RCUR": [numbers[again.pk]]}
    assert document.findtext(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS) == "NL69ZZZ123456780000"
    assert none.pk in numbers and batch.transactions == 2
    # The first mandate is recurring from now on; nothing is collected twice.
    assert Mandate.objects.get(relation=first).sequence_type == "RCUR"
    with pytest.raises(ValidationError, match="geen openstaande facturen"):
        services.collection_batch_create(tenant=world.province1, collection_date=TODAY + datetime.timedelta(days=7),
                                         actor=world.province_sb)


def test_it_also_writes_pain008_001_08(world):
    relation = member(world.department11, "Nieuw")
    _mandate(world, relation, MEMBER_IBANS[0])
    _finalise(world)
    batch = services.collection_batch_create(tenant=world.province1, collection_date=TODAY + datetime.timedelta(days=7),
                                             actor=world.province_sb, schema="pain.008.001.08")
    _validate(batch.file.read(), "pain.008.001.08")


@pytest.mark.parametrize("schema", ["pain.008.001.02", "pain.008.001.08"])
def test_it_writes_a_file_larger_than_one_chunk_as_one_valid_document(world, monkeypatch, schema):
    # Files are built in chunks of sepaxml's making (billing/sepa.py); a chunk of 2 shows the seams.
    monkeypatch.setattr(services, "SEPA_CHUNK_SIZE", 2)
    members = [member(world.department11, f"Lid{n}") for n in range(5)]
    for n, relation in enumerate(members):
        collected = TODAY - datetime.timedelta(days=300) if n % 2 else None
        _mandate(world, relation, MEMBER_IBANS[n % len(MEMBER_IBANS)], first_collected_on=collected)
    _finalise(world)
    batch = services.collection_batch_create(tenant=world.province1, collection_date=TODAY + datetime.timedelta(days=7),
                                             actor=world.province_sb, schema=schema)
    document = _validate(batch.file.read(), schema)
    ns = {"p": f"urn:iso:std:iso:20022:tech:xsd:{schema}"}
    header = document.find("p:CstmrDrctDbtInitn/p:GrpHdr", ns)
    assert header.findtext("p:NbOfTxs", namespaces=ns) == "5" and header.findtext("p:CtrlSum", namespaces=ns) == "250.00"
    assert header.findtext("p:MsgId", namespaces=ns) == batch.message_id
    blocks = document.findall("p:CstmrDrctDbtInitn/p:PmtInf", ns)
    assert len(blocks) == 5  # chunks of [FRST, RCUR], [FRST, RCUR], [FRST]
    assert len({block.findtext("p:PmtInfId", namespaces=ns) for block in blocks}) == 5
    for block in blocks:
        transactions = block.findall("p:DrctDbtTxInf", ns)
        assert block.findtext("p:NbOfTxs", namespaces=ns) == str(len(transactions))
    end_to_end = [tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns) for tx in document.iter(f"{{{ns['p']}}}DrctDbtTxInf")]
    assert sorted(end_to_end) == sorted(Invoice.objects.values_list("number", flat=True))
    assert batch.items.count() == 5 and batch.transactions == 5


def test_it_imports_the_statement_of_a_batch_and_reopens_reversed_invoices(world):
    relations = [member(world.department11, f"Lid{n}") for n in range(4)]
    for relation, iban in zip(relations, MEMBER_IBANS, strict=True):
        _mandate(world, relation, iban)
    _finalise(world)
    batch = services.collection_batch_create(tenant=world.province1, collection_date=TODAY + datetime.timedelta(days=7),
                                             actor=world.province_sb)
    statement = services.bank_statement_import(
        tenant=world.province1, file_name="camt.xml", content=camt053_from_batch(batch, booking_date=TODAY),
        actor=world.province_sb,
    )
    assert statement.matched == 4
    assert set(Invoice.objects.values_list("status", flat=True)) == {InvoiceStatus.PAID}
    reversed_invoice = Invoice.objects.get(relation=relations[0])
    reversal = camt053_build(statement_id="STORNO-1", iban=OWN_IBAN, lines=[StatementLine(
        amount=Decimal("-50.00"), booking_date=TODAY, iban=MEMBER_IBANS[0], end_to_end_id=reversed_invoice.number,
        reversal_reason="MD06",
    )])
    services.bank_statement_import(tenant=world.province1, file_name="storno.xml", content=reversal,
                                   actor=world.province_sb)
    reversed_invoice.refresh_from_db()
    assert (reversed_invoice.status, reversed_invoice.balance, reversed_invoice.reversal_reason) == (
        InvoiceStatus.OPEN, Decimal("50.00"), "MD06")
    mandate = Mandate.objects.get(relation=relations[0])
    assert (mandate.reversals, mandate.flagged) == (1, False)
    # It is collectable again; a second reversal flags the mandate, which then is skipped.
    again = services.collection_batch_create(tenant=world.province1, collection_date=TODAY + datetime.timedelta(days=8),
                                             actor=world.province_sb)
    assert list(again.items.values_list("invoice_id", flat=True)) == [reversed_invoice.pk]
    services.bank_statement_import(
        tenant=world.province1, file_name="2.xml", actor=world.province_sb,
        content=camt053_from_batch(again, reversals={reversed_invoice.number: "AM04"}, statement_id="STMT-2"),
    )
    mandate.refresh_from_db()
    reversed_invoice.refresh_from_db()
    assert (mandate.reversals, mandate.flagged, reversed_invoice.status) == (2, True, InvoiceStatus.OPEN)


def test_it_matches_by_iban_and_amount_and_lists_what_it_cannot_match(world):
    paid = member(world.department11, "Overmaker")
    _mandate(world, paid, MEMBER_IBANS[2])
    _finalise(world)
    content = camt053_build(statement_id="S-9", iban=OWN_IBAN, lines=[
        StatementLine(amount=Decimal("50.00"), booking_date=TODAY, iban=MEMBER_IBANS[2], remittance="contributie"),
        StatementLine(amount=Decimal("12.34"), booking_date=TODAY, iban=MEMBER_IBANS[3], remittance="gift"),
    ])
    statement = services.bank_statement_import(tenant=world.province1, file_name="s.xml", content=content,
                                               actor=world.province_sb)
    assert Invoice.objects.get(relation=paid).status == InvoiceStatus.PAID
    unmatched = BankEntry.objects.get(statement=statement, match=BankEntry.Match.UNMATCHED)
    assert unmatched.amount == Decimal("12.34")
    other = member(world.department12, "Later")
    services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=world.province_sb)
    invoice = Invoice.objects.get(relation=other)
    with pytest.raises(ValidationError):
        services.bank_entry_match(entry=unmatched, invoice=Invoice.objects.get(relation=paid), actor=world.province_sb)
    services.bank_entry_match(entry=unmatched, invoice=invoice, actor=world.province_sb)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid) == (InvoiceStatus.PARTLY_PAID, Decimal("12.34"))


def test_it_makes_rf_payment_references_and_reads_them_back():
    assert rf_reference("2027-000001") == "RF89 2027 0000 01"
    assert invoice_numbers_in("betaling rf89 2027 0000 01 contributie") == ["2027-000001"]
    assert invoice_numbers_in("RF892027000001") == ["2027-000001"]
    # A typing error fails the check digits: it names no invoice.
    assert invoice_numbers_in("RF89 2027 0000 02") == []
    assert invoice_numbers_in("factuur 2027-000003") == ["2027-000003"]


def test_it_matches_a_transfer_by_its_rf_reference_free_or_structured(world):
    free = member(world.department11, "Vrij")
    structured = member(world.department11, "Gestructureerd")
    _finalise(world)
    by_free, by_structured = (Invoice.objects.get(relation=r) for r in (free, structured))
    content = camt053_build(statement_id="S-RF", iban=OWN_IBAN, lines=[
        StatementLine(amount=Decimal("50.00"), booking_date=TODAY, iban="NL39RABO0300065264",
                      remittance=f"contributie {by_free.payment_reference.lower()}"),
        StatementLine(amount=Decimal("50.00"), booking_date=TODAY, iban="NL39RABO0300065264",
                      creditor_reference=by_structured.payment_reference.replace(" ", "")),
    ])
    statement = services.bank_statement_import(tenant=world.province1, file_name="s.xml", content=content,
                                               actor=world.province_sb)
    assert statement.matched == 2
    assert set(BankEntry.objects.values_list("match", flat=True)) == {BankEntry.Match.REFERENCE}
    assert {i.status for i in Invoice.objects.filter(pk__in=[by_free.pk, by_structured.pk])} == {InvoiceStatus.PAID}


@pytest.mark.parametrize(("content", "message"), [
    (b"<Document><BkToCstmrStmt>", "geen leesbaar XML"),
    (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><Document>&e;</Document>",
     "documenttypedeclaratie"),
    (b"<a/>", "geen CAMT.053"),
])
def test_it_refuses_malformed_statements_with_a_message(world, content, message):
    with pytest.raises(ValidationError, match=message):
        services.bank_statement_import(tenant=world.province1, file_name="x.xml", content=content, actor=world.province_sb)


def test_it_refuses_a_statement_of_another_account_and_a_second_import(world):
    other = camt053_build(statement_id="S-1", iban=MEMBER_IBANS[0], lines=[])
    with pytest.raises(ValidationError, match="niet van de rekening"):
        services.bank_statement_import(tenant=world.province1, file_name="x.xml", content=other, actor=world.province_sb)
    own = camt053_build(statement_id="S-1", iban=OWN_IBAN, lines=[])
    services.bank_statement_import(tenant=world.province1, file_name="x.xml", content=own, actor=world.province_sb)
    with pytest.raises(ValidationError, match="al geïmporteerd"):
        services.bank_statement_import(tenant=world.province1, file_name="x.xml", content=own, actor=world.province_sb)


def test_it_prints_amount_number_iban_and_the_direct_debit_notice_on_the_pdf(world):
    with_mandate = member(world.department11, "Incasso", born=datetime.date(YEAR - 30, 1, 1))
    without = member(world.department11, "Overmaken")
    _mandate(world, with_mandate, MEMBER_IBANS[1])
    _finalise(world)
    for relation, expected in ((with_mandate, MEMBER_IBANS[1]), (without, OWN_IBAN)):
        invoice = Invoice.objects.get(relation=relation)
        text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(invoice_pdf(invoice))).pages)
        assert invoice.number in text and invoice.payment_reference in text
        assert "50,00" in text
        assert expected in text
        assert ("incasso" in text.lower()) is (relation == with_mandate)


def test_it_mails_invoices_and_reminders_through_the_environments_templates(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    relation = member(world.department11, "Sjabloon")
    environment = BillingEnvironment.objects.get(tenant=world.province1)
    # The invoice template names no invoice token: the standard details follow its text.
    environment.invoice_template = make_mail_template(
        world.national, name="Factuur", email_subject="Uw contributie, [firstname]",
        email_text="Beste [firstname],\n\nHierbij de factuur.",
    )
    # The reminder template places the invoice's details itself.
    environment.reminder_template = make_mail_template(
        world.national, name="Herinnering", email_subject="Herinnering [invoicenumber]",
        email_text="Beste [fullname], nog open: € [openamount] (kenmerk [paymentreference], vervallen [duedate]).",
    )
    environment.save()
    with django_capture_on_commit_callbacks(execute=True):
        _finalise(world)
    invoice = Invoice.objects.get(relation=relation)
    [mail] = mailoutbox
    assert mail.subject == f"Uw contributie, {relation.first_name}"
    assert mail.body.startswith(f"Beste {relation.first_name},\n\nHierbij de factuur.\n\n")
    assert invoice.payment_reference in mail.body and mail.attachments[0][0] == f"{invoice.number}.pdf"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(today=invoice.due_date + datetime.timedelta(days=14)) == 1
    reminder = mailoutbox[1]
    assert reminder.subject == f"Herinnering {invoice.number}"
    assert reminder.body == (
        f"Beste {relation.display_name}, nog open: € 50,00 (kenmerk {invoice.payment_reference}, "
        f"vervallen {invoice.due_date:%d-%m-%Y})."
    )


def test_it_renders_and_mails_the_pdfs_after_finalising(world, mailoutbox, django_capture_on_commit_callbacks):
    relation = member(world.department11, "Post")
    with django_capture_on_commit_callbacks(execute=True):
        done = _finalise(world)
    done.refresh_from_db()
    invoice = Invoice.objects.get(relation=relation)
    assert invoice.pdf and invoice.emailed_at is not None and done.documents_done == 1
    assert [m.to for m in mailoutbox] == [["post@example.org"]]
    assert mailoutbox[0].attachments[0][0] == f"{invoice.number}.pdf"
    entry = relation.communication.get()
    assert invoice.number in entry.subject
