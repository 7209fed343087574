"""The access matrix of billing (ARCHITECTURE "Safety"), compared with an oracle written here by
hand. The runner, the actors and the reading of the answers are those of
tests/tenants/test_access_matrix.py; its completeness test also reads this MATRIX.

What the oracle encodes:
- billing is seen with "view" powers (member administrators and system administrators) in the
  current environment and below; a province never sees another province's invoices, runs,
  mandates, batches or statements (404), and the federation's own invoices (to departments)
  only from the national environment;
- writing (rates, runs, finalising, credit notes, payments, write-offs, batches, statements,
  matching, ending mandates) needs the system administrator's powers on the object's environment
  (403 for member administrators); member administrators may record a mandate on a card;
- rates are changed only in the environment that set them (404 elsewhere, like mail templates);
- department administrators see only the invoices their department received, read-only.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing import services
from billing.camt import StatementLine, camt053_build
from billing.models import (
    BankEntry,
    BankStatement,
    BillingEnvironment,
    CollectionBatch,
    Invoice,
    InvoiceRun,
    Mandate,
    Payment,
    Rate,
)
from tests.fuzz import hostile_get_failures
from tests.tenants.test_access_matrix import ACTORS, MISSING_PK, _as, matrix_failures

from .world import MEMBER_IBANS, OWN_IBAN, YEAR, billing_environment, member, rate, run

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()

#        out  n_sb n_la p_sb p_la d_la p2sb d21  n_sb@p1
VIEW = (403, 200, 200, 200, 200, 403, 200, 403, 200)
VIEW_P1 = (403, 200, 200, 200, 200, 403, 404, 403, 200)
VIEW_P2 = (403, 200, 200, 404, 404, 403, 200, 403, 404)
VIEW_NATIONAL = (403, 200, 200, 404, 404, 403, 404, 403, 404)
SB = (403, 200, 403, 200, 403, 403, 200, 403, 200)
CHANGE_P1 = (403, 302, 403, 302, 403, 403, 404, 403, 302)
OWN_RATE_P1 = (403, 404, 403, 200, 403, 403, 404, 403, 200)
DEPARTMENT = (403, 403, 403, 403, 403, 200, 403, 200, 403)
DEPARTMENT11 = (403, 403, 403, 403, 403, 200, 403, 404, 403)
# Department administrators lack the power to view billing at all: 403 before any lookup.
MISSING_BILLING = (403, 404, 404, 404, 404, 403, 404, 403, 404)

MATRIX: dict[tuple[str, str, str], tuple[int, ...]] = {
    ("GET", "billing_settings", "-"): SB,
    ("POST", "billing_settings", "-"): _as(SB, 302),
    ("GET", "rate_list", "-"): VIEW,
    ("GET", "rate_create", "-"): SB,
    ("POST", "rate_create", "-"): _as(SB, 302),
    ("GET", "rate_edit", "rate_p1"): OWN_RATE_P1,
    ("GET", "rate_edit", "missing"): (403, 404, 403, 404, 403, 403, 404, 403, 404),
    ("POST", "rate_edit", "rate_p1"): _as(OWN_RATE_P1, 302),
    ("POST", "rate_delete", "rate_p1"): _as(OWN_RATE_P1, 302),
    ("GET", "rate_delete", "rate_p1"): (403, 405, 405, 405, 405, 405, 405, 405, 405),
    ("GET", "run_list", "-"): VIEW,
    ("GET", "run_create", "-"): SB,
    ("POST", "run_create", "-"): _as(SB, 302),
    ("GET", "run_detail", "concept_p1"): VIEW_P1,
    ("GET", "run_detail", "run_p2"): VIEW_P2,
    ("GET", "run_detail", "missing"): MISSING_BILLING,
    ("GET", "run_concept_download", "concept_p1"): VIEW_P1,
    ("GET", "run_concept_download", "missing"): MISSING_BILLING,
    ("POST", "run_finalise", "concept_p1"): CHANGE_P1,
    ("POST", "run_finalise", "missing"): MISSING_BILLING,
    ("POST", "run_delete", "concept_p1"): CHANGE_P1,
    ("GET", "invoice_list", "-"): VIEW,
    ("GET", "invoice_detail", "invoice_p1"): VIEW_P1,
    ("GET", "invoice_detail", "invoice_p2"): VIEW_P2,
    ("GET", "invoice_detail", "invoice_d11"): VIEW_NATIONAL,
    ("GET", "invoice_detail", "missing"): MISSING_BILLING,
    ("GET", "invoice_pdf", "invoice_p1"): VIEW_P1,
    ("GET", "invoice_pdf", "invoice_p2"): VIEW_P2,
    ("POST", "invoice_credit", "invoice_p1"): CHANGE_P1,
    ("POST", "invoice_credit", "missing"): MISSING_BILLING,
    ("POST", "invoice_payment", "invoice_p1"): CHANGE_P1,
    ("POST", "invoice_write_off", "invoice_p1"): CHANGE_P1,
    ("GET", "invoice_members", "invoice_d11"): VIEW_NATIONAL,
    ("GET", "payment_list", "-"): VIEW,
    ("GET", "relation_billing", "relation_p1"): VIEW_P1,
    ("GET", "relation_billing", "relation_p2"): VIEW_P2,
    ("POST", "relation_billing", "relation_p1"): (403, 302, 302, 302, 302, 403, 404, 403, 302),
    ("POST", "mandate_end", "mandate_p1"): CHANGE_P1,
    ("POST", "mandate_end", "missing"): MISSING_BILLING,
    ("GET", "mandate_list", "-"): VIEW,
    ("GET", "batch_list", "-"): VIEW,
    # The federation has nothing to collect: its form shows why (200) and writes nothing.
    ("POST", "batch_list", "-"): (403, 200, 403, 302, 403, 403, 302, 403, 302),
    ("GET", "batch_download", "batch_p1"): VIEW_P1,
    ("GET", "batch_download", "missing"): MISSING_BILLING,
    ("GET", "statement_list", "-"): VIEW,
    ("POST", "statement_list", "-"): _as(SB, 302),
    ("GET", "statement_detail", "statement_p1"): VIEW_P1,
    ("GET", "statement_detail", "missing"): MISSING_BILLING,
    ("POST", "entry_match", "entry_p1"): CHANGE_P1,
    ("GET", "bookkeeping_export", "-"): VIEW,
    ("GET", "bookkeeping_export", "csv"): VIEW,
    ("GET", "department_invoice_list", "-"): DEPARTMENT,
    ("GET", "department_invoice_pdf", "invoice_d11"): DEPARTMENT11,
    ("GET", "department_invoice_pdf", "invoice_p1"): (403, 403, 403, 403, 403, 404, 403, 404, 403),
    ("GET", "department_invoice_members", "invoice_d11"): DEPARTMENT11,
}


@pytest.fixture(autouse=True)
def _quiet(caplog):
    caplog.set_level(logging.ERROR, logger="django.request")


@pytest.fixture
def objects(federation) -> dict:
    for tenant in (federation.national, federation.province1, federation.province2):
        billing_environment(tenant)
    rate(federation.national, "30.00", name="Landelijk")
    rate_p1 = rate(federation.province1, "20.00", name="Jeugd", age_to=17)
    rate(federation.province1, "50.00", name="Volwassen", age_from=18)
    rate(federation.province2, "45.00")
    relation_p1 = member(federation.department11, "Elf")
    relation_p2 = member(federation.department21, "Eenentwintig")
    mandate_p1 = services.mandate_create(tenant=federation.province1, relation=relation_p1, reference="M-P1",
                                         signed_on=TODAY, iban=MEMBER_IBANS[0], account_holder="", actor=None)
    services.mandate_create(tenant=federation.province2, relation=relation_p2, reference="M-P2",
                            signed_on=TODAY, iban=MEMBER_IBANS[1], account_holder="", actor=None)
    services.invoice_run_finalise(run_id=run(federation.province1, federation.province_sb).pk, actor=None)
    run_p2 = services.invoice_run_finalise(run_id=run(federation.province2, federation.province2_sb).pk, actor=None)
    national = services.invoice_run_finalise(
        run_id=run(federation.national, federation.national_sb, kind="departments").pk, actor=None
    )
    invoice_p1 = Invoice.objects.get(relation=relation_p1)
    batch_p1 = services.collection_batch_create(tenant=federation.province1, actor=federation.province_sb,
                                                collection_date=TODAY + datetime.timedelta(days=10))
    # A second open invoice in province 1, so creating a batch there has something to collect.
    late = member(federation.department12, "Laat")
    services.mandate_create(tenant=federation.province1, relation=late, reference="M-P1B", signed_on=TODAY,
                            iban=MEMBER_IBANS[2], account_holder="", actor=None)
    services.invoice_run_finalise(run_id=run(federation.province1, federation.province_sb).pk, actor=None)
    statement_p1 = services.bank_statement_import(
        tenant=federation.province1, file_name="s.xml", actor=None,
        content=camt053_build(statement_id="S-P1", iban=OWN_IBAN, lines=[
            StatementLine(amount=Decimal("10.00"), booking_date=TODAY, iban=MEMBER_IBANS[3], remittance="gift"),
        ]),
    )
    member(federation.department11, "Concept")  # what the concept would invoice
    return {
        "rate_p1": rate_p1, "relation_p1": relation_p1, "relation_p2": relation_p2, "mandate_p1": mandate_p1,
        "concept_p1": run(federation.province1, federation.province_sb, name="Concept"), "run_p2": run_p2,
        "invoice_p1": Invoice.objects.get(pk=invoice_p1.pk),
        "invoice_p2": Invoice.objects.get(relation=relation_p2),
        "invoice_d11": national.invoices.get(debtor_tenant=federation.department11),
        "batch_p1": batch_p1, "statement_p1": statement_p1, "entry_p1": statement_p1.lines.get(),
    }


def _url(url_name: str, probe: str, objects: dict) -> str:
    if probe in ("-", "csv"):
        url = reverse(url_name)
        if probe == "csv":
            url += f"?date_from={YEAR - 1}-01-01&date_to={TODAY.isoformat()}&fmt=csv"
        return url
    pk = MISSING_PK if probe == "missing" else objects[probe].pk
    if url_name in ("run_concept_download", "invoice_members", "department_invoice_members"):
        return reverse(url_name, kwargs={"pk": pk, "fmt": "csv"})
    return reverse(url_name, kwargs={"pk": pk})


def _post_data(url_name: str, probe: str, objects: dict) -> dict:
    if probe == "missing":
        return {}
    from memberships.models import FunctionType

    member_type = FunctionType.objects.get(code="department_member").pk
    if url_name == "billing_settings":
        return {"creditor_name": "Nieuw", "iban": MEMBER_IBANS[3], "bic": "", "creditor_id": "",
                "season_start_day": 1, "season_start_month": 1, "payment_term_days": 14,
                "collection_lead_days": 3, "reminder_days": "14", "reversal_flag_count": 2}
    if url_name in ("rate_create", "rate_edit"):
        return {"function_type": member_type, "season_start": f"{YEAR + 1}-01-01", "name": "Volgend jaar",
                "amount": "12.50", "vat_code": "exempt", "ledger_account": "8000"}
    if url_name == "run_create":
        return {"name": "Run", "kind": "members", "reference_date": TODAY.isoformat(),
                "invoice_date": TODAY.isoformat(), "function_types": [member_type], "send_email": "on"}
    if url_name == "invoice_credit":
        return {"amount": "5.00", "reason": "korting"}
    if url_name == "invoice_payment":
        return {"amount": "5.00", "date": TODAY.isoformat(), "note": ""}
    if url_name == "invoice_write_off":
        return {"reason": "oninbaar"}
    if url_name == "relation_billing":
        return {"iban": MEMBER_IBANS[3], "signed_on": TODAY.isoformat(), "account_holder": "", "reference": ""}
    if url_name == "batch_list":
        return {"collection_date": (TODAY + datetime.timedelta(days=10)).isoformat(), "schema": "pain.008.001.02"}
    if url_name == "entry_match":
        return {"number": objects["invoice_p1"].number}
    return {}




def _statement_upload() -> SimpleUploadedFile:
    content = camt053_build(statement_id="S-MATRIX", iban=OWN_IBAN, lines=[
        StatementLine(amount=Decimal("1.00"), booking_date=TODAY, iban=MEMBER_IBANS[3], remittance="gift"),
    ])
    return SimpleUploadedFile("camt.xml", content, content_type="application/xml")


def _state() -> tuple:
    return (
        list(BillingEnvironment.objects.order_by("pk").values_list("pk", "creditor_name", "iban")),
        list(Rate.objects.order_by("pk").values_list("pk", "name", "amount")),
        list(InvoiceRun.objects.order_by("pk").values_list("pk", "status")),
        list(Invoice.objects.order_by("pk").values_list("pk", "status", "credited", "paid")),
        Payment.objects.count(),
        list(Mandate.objects.order_by("pk").values_list("pk", "ended_on")),
        CollectionBatch.objects.count(),
        BankStatement.objects.count(),
        list(BankEntry.objects.order_by("pk").values_list("pk", "match")),
    )


def test_it_has_one_answer_per_actor_in_every_row():
    for key, row in MATRIX.items():
        assert len(row) == len(ACTORS), key


@pytest.mark.parametrize(
    ("method", "url_name"),
    sorted({(m, u) for m, u, _probe in MATRIX}, key=lambda mu: (mu[1], mu[0])),
    ids=lambda value: value,
)
def test_it_gives_every_user_the_answer_of_the_matrix(method, url_name, federation, objects):
    failures = matrix_failures(
        method, url_name, MATRIX, federation, state=_state,
        url=lambda name, probe: _url(name, probe, objects),
        data=lambda name, probe: _post_data(name, probe, objects),
        for_actor=(lambda data, actor: {"file": _statement_upload()}) if url_name == "statement_list" else None,
    )
    assert not failures, "\n".join(failures)


def test_it_keeps_post_rows_for_every_state_changing_view():
    posted = {url_name for method, url_name, _probe in MATRIX if method == "POST"}
    assert {
        "billing_settings", "rate_create", "rate_edit", "rate_delete", "run_create", "run_finalise", "run_delete",
        "invoice_credit", "invoice_payment", "invoice_write_off", "relation_billing", "mandate_end", "batch_list",
        "statement_list", "entry_match",
    } <= posted


def test_it_answers_no_server_error_to_hostile_parameters_on_any_page(federation, objects):
    failures = hostile_get_failures(MATRIX, federation, url=lambda name, probe: _url(name, probe, objects))
    assert not failures, "\n".join(failures)
