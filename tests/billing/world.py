"""The billing test world: province 1 bills its members (calendar-year season), rates set
nationally and by province 1, members in departments 1.1, 1.2 and 2.1."""

from __future__ import annotations

import datetime
from decimal import Decimal

from billing.models import BillingEnvironment, Rate
from billing.services import billing_environment_save, invoice_run_create, rate_save
from memberships.models import FunctionType
from tests.factories import make_relation

CREDITOR_ID = "NL69ZZZ123456780000"
OWN_IBAN = "NL91ABNA0417164300"
MEMBER_IBANS = ["NL20INGB0001234567", "NL39RABO0300065264", "NL44RABO0123456789", "NL02ABNA0123456789"]
YEAR = datetime.date.today().year
SEASON = datetime.date(YEAR, 1, 1)
REFERENCE = datetime.date(YEAR, 1, 1)


def billing_environment(tenant, **fields) -> BillingEnvironment:
    values = {"creditor_name": tenant.name, "creditor_id": CREDITOR_ID, "iban": OWN_IBAN, "collection_lead_days": 2}
    values.update(fields)
    return billing_environment_save(environment=BillingEnvironment(tenant=tenant, **values))


def rate(tenant, amount: str, *, name: str = "Volwassen", code: str = "department_member", season=SEASON,
         age_from=None, age_to=None, **fields) -> Rate:
    return rate_save(rate=Rate(
        tenant=tenant, function_type=FunctionType.objects.get(code=code), season_start=season,
        name=name, amount=Decimal(amount), age_from=age_from, age_to=age_to, **fields,
    ))


def member(tenant, last_name: str, *, born: datetime.date | None = datetime.date(1990, 5, 1),
           start: datetime.date = datetime.date(YEAR - 1, 3, 1), code: str = "department_member", **data):
    return make_relation(tenant, last_name=last_name, birth_date=born, start_date=start, function_code=code,
                         email=f"{last_name.lower()}@example.org", **data)


def run(tenant, user, *, codes=("department_member", "aspirant_member"), kind="members", pro_rata=False,
        reference=REFERENCE, invoice_date=None, name="Contributie"):
    return invoice_run_create(
        tenant=tenant, actor=user, name=name, kind=kind, reference_date=reference,
        invoice_date=invoice_date or datetime.date.today(),
        function_types=FunctionType.objects.filter(code__in=codes), pro_rata=pro_rata, send_email=True,
    )
