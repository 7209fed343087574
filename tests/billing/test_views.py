"""The billing screens: bad input gives a clear Dutch message at the right place and writes
nothing; the main flow works through the pages; reminders, the bookkeeper's export and a
department's own invoices."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import services
from billing.camt import StatementLine, camt053_build, camt053_from_batch
from billing.models import BankStatement, Invoice, InvoiceRun, InvoiceStatus, Mandate, Rate
from memberships.models import FunctionType
from relations.models import ExportLog

from .world import MEMBER_IBANS, OWN_IBAN, YEAR, billing_environment, member, rate, run

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture
def world(federation):
    billing_environment(federation.province1)
    rate(federation.province1, "50.00")
    return federation


@pytest.fixture
def province_sb(world, login):
    return login(world.province_sb)


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def test_it_refuses_an_overlapping_rate_in_dutch_and_saves_nothing(world, province_sb):
    response = province_sb.post(reverse("rate_create"), {
        "function_type": FunctionType.objects.get(code="department_member").pk, "season_start": f"{YEAR}-01-01",
        "name": "Dubbel", "amount": "10", "vat_code": "exempt", "ledger_account": "8000",
    })
    assert response.status_code == 200
    assert "overlapt" in response.content.decode()
    assert Rate.objects.count() == 1


def test_it_makes_a_concept_finalises_it_once_and_refuses_the_second_click(world, province_sb, django_capture_on_commit_callbacks):
    member(world.department11, "Lid")
    response = province_sb.post(reverse("run_create"), {
        "name": "Contributie", "kind": "members", "reference_date": f"{YEAR}-01-01",
        "invoice_date": TODAY.isoformat(), "function_types": [FunctionType.objects.get(code="department_member").pk],
    })
    concept = InvoiceRun.objects.get()
    assert response.url == reverse("run_detail", args=[concept.pk])
    page = province_sb.get(response.url)
    assert "Lid" in page.content.decode() and "€ 50,00" in page.content.decode()
    download = province_sb.get(reverse("run_concept_download", args=[concept.pk, "csv"]))
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Relatienummer" and rows[1][-2] == "50.00"
    with django_capture_on_commit_callbacks(execute=True):
        province_sb.post(reverse("run_finalise", args=[concept.pk]))
    second = province_sb.post(reverse("run_finalise", args=[concept.pk]), follow=True)
    assert "al definitief gemaakt" in _messages(second)
    assert Invoice.objects.count() == 1
    progress = province_sb.get(reverse("run_detail", args=[concept.pk]) + "?progress=1", headers={"HX-Request": "true"})
    assert "1 van 1" in progress.content.decode()
    pdf = province_sb.get(reverse("invoice_pdf", args=[Invoice.objects.get().pk]))
    assert pdf["Content-Type"] == "application/pdf"


def test_it_refuses_a_credit_of_more_than_the_invoice(world, province_sb):
    member(world.department11, "Lid")
    services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=None)
    invoice = Invoice.objects.get()
    response = province_sb.post(reverse("invoice_credit", args=[invoice.pk]), {"amount": "60.00", "reason": "x"})
    assert response.status_code == 200
    assert "maximaal € 50,00" in response.content.decode()
    assert Invoice.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.credited == 0


def test_it_refuses_a_wrong_iban_on_the_card_and_a_mandate_signed_in_the_future(world, province_sb):
    relation = member(world.department11, "Lid")
    url = reverse("relation_billing", args=[relation.pk])
    wrong = province_sb.post(url, {"iban": "NL92ABNA0417164300", "signed_on": TODAY.isoformat()})
    assert "controlecijfer" in wrong.content.decode()
    future = province_sb.post(url, {"iban": MEMBER_IBANS[0], "signed_on": (TODAY + datetime.timedelta(days=3)).isoformat()})
    assert "toekomst" in future.content.decode()
    assert not Mandate.objects.exists()
    ok = province_sb.post(url, {"iban": MEMBER_IBANS[0], "signed_on": TODAY.isoformat()})
    assert ok.status_code == 302
    card = province_sb.get(url).content.decode()
    assert MEMBER_IBANS[0] in card and "FRST" in card


def test_it_refuses_a_collection_date_inside_the_lead_time(world, province_sb):
    relation = member(world.department11, "Lid")
    services.mandate_create(tenant=world.province1, relation=relation, reference="M1", signed_on=TODAY,
                            iban=MEMBER_IBANS[0], account_holder="", actor=None)
    services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=None)
    response = province_sb.post(reverse("batch_list"), {"collection_date": TODAY.isoformat(), "schema": "pain.008.001.02"})
    assert response.status_code == 200 and "Uw bank heeft 2 dagen nodig" in response.content.decode()
    response = province_sb.post(reverse("batch_list"), {
        "collection_date": (TODAY + datetime.timedelta(days=3)).isoformat(), "schema": "pain.008.001.02"
    })
    assert response.status_code == 302


@pytest.mark.parametrize(("content", "message"), [
    (b"<<<", "geen leesbaar XML"),
    (camt053_build(statement_id="X", iban=MEMBER_IBANS[0], lines=[]), "niet van de rekening"),
])
def test_it_refuses_a_bad_statement_upload_at_the_field(world, province_sb, content, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = province_sb.post(reverse("statement_list"), {"file": SimpleUploadedFile("camt.xml", content)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not BankStatement.objects.exists()


def test_it_imports_a_statement_and_matches_an_entry_by_hand(world, province_sb):
    from django.core.files.uploadedfile import SimpleUploadedFile

    member(world.department11, "Lid")
    services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=None)
    invoice = Invoice.objects.get()
    content = camt053_build(statement_id="S1", iban=OWN_IBAN, lines=[
        StatementLine(amount=Decimal("50.00"), booking_date=TODAY, iban=MEMBER_IBANS[3], remittance="contributie"),
    ])
    response = province_sb.post(reverse("statement_list"), {"file": SimpleUploadedFile("camt.xml", content)})
    statement = BankStatement.objects.get()
    assert response.url == reverse("statement_detail", args=[statement.pk])
    entry = statement.lines.get()
    province_sb.post(reverse("entry_match", args=[entry.pk]), {"number": invoice.number})
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_it_exports_invoices_credit_notes_and_payments_for_the_bookkeeper(world, province_sb):
    relation = member(world.department11, "Lid")
    services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=None)
    invoice = Invoice.objects.get()
    services.payment_register(invoice=invoice, amount=Decimal("20.00"), date=TODAY, actor=None)
    services.credit_note_create(invoice=invoice, amount=Decimal("30.00"), reason="korting", actor=None)
    response = province_sb.get(reverse("bookkeeping_export"), {
        "date_from": f"{YEAR - 1}-01-01", "date_to": TODAY.isoformat(), "fmt": "csv"
    })
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))
    body = [(r[0], r[1], r[3], r[6], r[7], r[8]) for r in rows[1:]]
    assert body == [
        ("Factuur", str(relation.number), invoice.number, "50.00", "exempt", "8000"),
        ("Creditnota", str(relation.number), f"{TODAY.year}-000002", "-30.00", "exempt", "8000"),
        ("Handmatig", str(relation.number), invoice.number, "20.00", "", ""),
    ]


def test_it_sends_reminders_by_the_schedule_once(world, mailoutbox):
    member(world.department11, "Wanbetaler")
    services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=None)
    invoice = Invoice.objects.get()
    assert services.reminders_send(today=invoice.due_date + datetime.timedelta(days=13)) == 0
    day = invoice.due_date + datetime.timedelta(days=14)
    assert services.reminders_send(today=day) == 1
    assert services.reminders_send(today=day) == 0
    invoice.refresh_from_db()
    assert (invoice.reminders_sent, invoice.last_reminder_on) == (1, day)
    assert services.reminders_send(today=day + datetime.timedelta(days=14)) == 1
    assert services.reminders_send(today=day + datetime.timedelta(days=100)) == 0  # the schedule has two
    assert Invoice.objects.get().relation.communication.filter(subject__startswith="Herinnering").count() == 2


def test_it_downloads_the_members_a_department_invoice_counted(world, login):
    billing_environment(world.national)
    rate(world.national, "10.00")
    for n in range(3):
        member(world.department11, f"Elf{n}")
    member(world.department21, "Eenentwintig")
    done = services.invoice_run_finalise(
        run_id=run(world.national, world.national_sb, kind="departments").pk, actor=world.national_sb
    )
    invoice = done.invoices.get(debtor_tenant=world.department11)
    client = login(world.national_sb)
    assert reverse("invoice_members", args=[invoice.pk, "csv"]) in client.get(
        reverse("invoice_detail", args=[invoice.pk])).content.decode()
    response = client.get(reverse("invoice_members", args=[invoice.pk, "csv"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))
    assert len(rows) - 1 == sum(invoice.lines.values_list("quantity", flat=True)) == 3
    assert [row[1] for row in rows[1:]] == ["Elf0, Jan", "Elf1, Jan", "Elf2, Jan"]
    log = ExportLog.objects.latest("pk")
    assert (log.user, log.format, log.rows) == (world.national_sb, "csv", 3) and invoice.number in log.what
    assert client.get(reverse("invoice_members", args=[invoice.pk, "xlsx"])).status_code == 200
    assert client.get(reverse("invoice_members", args=[invoice.pk, "pdf"])).status_code == 404
    # Another province does not see the invoice at all.
    assert login(world.province2_sb).get(reverse("invoice_members", args=[invoice.pk, "csv"])).status_code == 404


def test_it_shows_a_department_its_own_invoices_read_only(world, login):
    billing_environment(world.national)
    member(world.department11, "Elf")
    member(world.department21, "Eenentwintig")
    rate(world.national, "10.00")
    services.invoice_run_finalise(run_id=run(world.national, world.national_sb, kind="departments").pk, actor=None)
    client = login(world.department_la)
    page = client.get(reverse("department_invoice_list")).content.decode()
    own = Invoice.objects.get(debtor_tenant=world.department11)
    other = Invoice.objects.get(debtor_tenant=world.department21)
    assert own.number in page and other.number not in page
    members = client.get(reverse("department_invoice_members", args=[own.pk, "csv"]))
    assert "Elf" in b"".join(members.streaming_content).decode("utf-8-sig")
    assert client.get(reverse("department_invoice_pdf", args=[other.pk])).status_code == 404
    # Opening the invoice PDF is a download of personal data: logged when it starts.
    before = ExportLog.objects.count()
    assert client.get(reverse("department_invoice_pdf", args=[own.pk])).status_code == 200
    log = ExportLog.objects.latest("pk")
    assert ExportLog.objects.count() == before + 1 and own.number in log.what and log.format == "pdf"


def test_it_round_trips_a_batch_through_the_pages(world, province_sb):
    from django.core.files.uploadedfile import SimpleUploadedFile

    relation = member(world.department11, "Incasso")
    services.mandate_create(tenant=world.province1, relation=relation, reference="M1", signed_on=TODAY,
                            iban=MEMBER_IBANS[0], account_holder="", actor=None)
    services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=None)
    province_sb.post(reverse("batch_list"), {
        "collection_date": (TODAY + datetime.timedelta(days=5)).isoformat(), "schema": "pain.008.001.02"
    })
    from billing.models import CollectionBatch

    batch = CollectionBatch.objects.get()
    download = province_sb.get(reverse("batch_download", args=[batch.pk]))
    assert b"pain.008.001.02" in b"".join(download.streaming_content)
    log = ExportLog.objects.latest("pk")
    assert (log.format, log.rows) == ("xml", 1) and batch.message_id in log.what
    upload = SimpleUploadedFile("camt.xml", camt053_from_batch(batch))
    province_sb.post(reverse("statement_list"), {"file": upload})
    assert Invoice.objects.get().status == InvoiceStatus.PAID


def test_it_keeps_the_lists_to_a_few_queries_whatever_their_length(world, province_sb, django_assert_max_num_queries):
    for n in range(12):
        member(world.department11, f"Lid{n}")
    done = services.invoice_run_finalise(run_id=run(world.province1, world.province_sb).pk, actor=None)
    for url in (reverse("invoice_list"), reverse("run_detail", args=[done.pk]), reverse("payment_list"),
                reverse("mandate_list")):
        with django_assert_max_num_queries(14):
            assert province_sb.get(url).status_code == 200
