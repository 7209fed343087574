"""The rules of relation cards (SPEC R1, R7): numbers, validation of every field and custom
field (bad input: a message at the field, nothing saved), the login's e-mail, the magazine flag
and the communication log."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from memberships.card import relation_create
from memberships.models import Function, FunctionType
from relations import services
from relations.models import (
    CommunicationEntry,
    CustomField,
    CustomFieldType,
    MagazineDelivery,
    Relation,
    RelationNumberCounter,
)
from tenants.models import User

from ..factories import UserFactory, give_function, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


def create(federation, *, data=None, extra=None, tenant=None):
    """relation_create the way the "+ Relatie" form calls it."""
    tenant = tenant or federation.department11
    card = {"kind": "person", "first_name": "Eva", "last_name": "Smit"}
    card.update(data or {})
    return relation_create(
        actor=federation.province_sb, tenant=tenant, data=card, extra=extra,
        function_type=FunctionType.objects.get(code="department_member"), function_tenant=tenant,
        start_date=TODAY,
    )


def custom_field(tenant, code: str, field_type: str, *, required: bool = False, choices: str = "") -> CustomField:
    return CustomField.objects.create(
        tenant=tenant, code=code, label=code.title(), field_type=field_type, required=required,
        choices=choices,
    )


def assert_refused(federation, field: str, **kwargs) -> None:
    """Creating the relation fails with a message at `field` and leaves no row behind."""
    relations, functions = Relation.objects.count(), Function.objects.count()

    with pytest.raises(ValidationError) as excinfo:
        create(federation, **kwargs)

    assert field in excinfo.value.message_dict
    assert excinfo.value.message_dict[field]
    assert (Relation.objects.count(), Function.objects.count()) == (relations, functions)


# --- relation numbers --------------------------------------------------------------------------


def test_it_gives_unique_increasing_relation_numbers(federation):
    numbers = [make_relation(federation.department11, last_name=f"Lid {n}").number for n in range(5)]

    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 5


def test_it_keeps_numbers_unique_after_a_rolled_back_transaction(federation):
    first = make_relation(federation.department11)
    with transaction.atomic():
        taken = services.relation_number_next()
        transaction.set_rollback(True)

    number = services.relation_number_next()

    assert number > first.number
    assert number == taken  # the rolled-back number was never used, so it is handed out again
    assert not Relation.objects.filter(number=number).exists()


def test_it_saves_nothing_and_wastes_no_number_when_the_first_function_is_refused(federation):
    first = make_relation(federation.department11)

    with pytest.raises(ValidationError) as excinfo:
        make_relation(federation.department11, function_code="department_chair",
                      function_tenant=federation.province1, last_name="Mislukt")

    assert "tenant" in excinfo.value.message_dict
    assert not Relation.objects.filter(last_name="Mislukt").exists()
    second = make_relation(federation.department11, last_name="Tweede")
    assert second.number == first.number + 1


def test_it_starts_the_counter_when_its_row_is_missing(federation):
    RelationNumberCounter.objects.all().delete()

    assert services.relation_number_next() == 100001
    assert services.relation_number_next() == 100002


# --- creating: the card and its first function -------------------------------------------------


def test_it_creates_the_card_with_its_first_function(federation):
    relation = create(federation, data={"postcode": "6701ab", "initials": " j.p. ", "email": " eva@example.org "})

    assert relation.postcode == "6701 AB"
    assert relation.initials == "J.P."
    assert relation.email == "eva@example.org"
    function = Function.objects.get(relation=relation)
    assert (function.function_type.code, function.tenant, function.start_date) == (
        "department_member", federation.department11, TODAY,
    )
    assert relation.history.latest().history_user == federation.province_sb


def test_it_fills_the_search_text_from_name_number_email_postcode_and_city(federation):
    relation = create(federation, data={
        "first_name": "Jan", "infix": "van der", "last_name": "Berg", "email": "Jan@Example.org",
        "postcode": "6701 AB", "city": "Wageningen",
    })

    words = relation.search_text
    for part in ("jan", "van der", "berg", str(relation.number), "jan@example.org", "6701 ab", "6701ab",
                 "wageningen"):
        assert part in words
    assert Relation.objects.filter(search_text__contains="agenin").get() == relation


def test_it_accepts_a_belgian_postcode(federation):
    relation = create(federation, data={"postcode": "1000", "country": "BE"})

    assert relation.postcode == "1000"


# --- bad input: refused at the field, nothing saved --------------------------------------------


@pytest.mark.parametrize("postcode", ["12345", "0123 AB", "1234 A", "ABCD EF", "1234-AB"])
def test_it_refuses_an_invalid_dutch_postcode(federation, postcode):
    assert_refused(federation, "postcode", data={"postcode": postcode})


@pytest.mark.parametrize("postcode", ["12AB", "123", "0999", "10000"])
def test_it_refuses_an_invalid_belgian_postcode(federation, postcode):
    assert_refused(federation, "postcode", data={"postcode": postcode, "country": "BE"})


def test_it_refuses_a_birth_date_in_the_future(federation):
    assert_refused(federation, "birth_date", data={"birth_date": TODAY + datetime.timedelta(days=1)})


def test_it_accepts_a_birth_date_of_today(federation):
    relation = create(federation, data={"birth_date": TODAY})

    assert relation.birth_date == TODAY


def test_it_refuses_a_malformed_email_address(federation):
    assert_refused(federation, "email", data={"email": "eva.smit@"})


def test_it_refuses_a_person_without_a_surname(federation):
    assert_refused(federation, "last_name", data={"last_name": "  "})


def test_it_refuses_an_organisation_without_a_name(federation):
    assert_refused(federation, "organisation_name", data={"kind": "organisation", "last_name": ""})


def test_it_refuses_a_required_custom_field_left_empty(federation):
    custom_field(federation.national, "diploma", CustomFieldType.TEXT, required=True)

    assert_refused(federation, "extra_diploma", extra={"diploma": "   "})


def test_it_refuses_a_missing_required_custom_field(federation):
    custom_field(federation.province1, "diploma", CustomFieldType.TEXT, required=True)

    assert_refused(federation, "extra_diploma", extra={})


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", "12,5,3"])
def test_it_refuses_a_number_custom_field_that_is_not_a_number(federation, value):
    custom_field(federation.national, "schoenmaat", CustomFieldType.NUMBER)

    assert_refused(federation, "extra_schoenmaat", extra={"schoenmaat": value})


def test_it_refuses_a_number_custom_field_too_large_to_store(federation):
    custom_field(federation.national, "schoenmaat", CustomFieldType.NUMBER)

    assert_refused(federation, "extra_schoenmaat", extra={"schoenmaat": "1e5000"})


def test_it_refuses_a_choice_that_is_not_in_the_list(federation):
    custom_field(federation.national, "diploma", CustomFieldType.CHOICE, choices="A\nB\nC")

    assert_refused(federation, "extra_diploma", extra={"diploma": "D"})


def test_it_refuses_a_date_custom_field_that_is_not_a_date(federation):
    custom_field(federation.national, "examen", CustomFieldType.DATE)

    assert_refused(federation, "extra_examen", extra={"examen": "30-02-2020"})


def test_it_stores_valid_custom_values(federation):
    custom_field(federation.national, "diploma", CustomFieldType.CHOICE, choices="A\nB\nC")
    custom_field(federation.national, "schoenmaat", CustomFieldType.NUMBER)
    custom_field(federation.national, "lengte", CustomFieldType.NUMBER)
    custom_field(federation.province1, "examen", CustomFieldType.DATE)
    custom_field(federation.department11, "vrijwilliger", CustomFieldType.BOOLEAN)

    relation = create(federation, extra={
        "diploma": "B", "schoenmaat": "42", "lengte": "1,85", "examen": "2024-06-01", "vrijwilliger": "on",
        "onbekend": "wordt genegeerd",
    })

    relation.refresh_from_db()
    assert relation.extra == {
        "diploma": "B", "schoenmaat": 42, "lengte": 1.85, "examen": "2024-06-01", "vrijwilliger": True,
    }


def test_it_ignores_the_custom_fields_of_other_environments(federation):
    custom_field(federation.department12, "diploma", CustomFieldType.TEXT, required=True)
    custom_field(federation.province2, "examen", CustomFieldType.DATE)

    relation = create(federation, extra={"examen": "niet gecontroleerd"})

    assert relation.extra == {}
    assert [f.code for f in services.custom_fields_for(federation.department12)] == ["diploma"]
    assert services.custom_fields_for(federation.department11) == []


def test_it_reads_the_custom_fields_anew_every_time(federation):
    """Only the query's SQL is kept per environment (tenants/compiled.py), not what it found."""
    custom_field(federation.province1, "diploma", CustomFieldType.TEXT)
    assert [(f.code, f.label) for f in services.custom_fields_for(federation.department11)] == [("diploma", "Diploma")]
    custom_field(federation.national, "hobby", CustomFieldType.TEXT)
    CustomField.objects.filter(code="diploma").update(label="Diploma (nieuw)", required=True)
    fields = services.custom_fields_for(federation.department11)
    assert [(f.code, f.label, f.required) for f in fields] == [("diploma", "Diploma (nieuw)", True), ("hobby", "Hobby", False)]


# --- updating ----------------------------------------------------------------------------------


def test_it_updates_the_card_and_its_search_text(federation):
    relation = make_relation(federation.department11, city="Ede")

    services.relation_update(actor=federation.province_la, relation=relation,
                             data={"city": "Wageningen", "number": 1, "tenant": federation.department21})

    relation.refresh_from_db()
    assert relation.city == "Wageningen"
    assert "wageningen" in relation.search_text and "ede" not in relation.search_text.split()
    # Only the card's own fields change through an update; number and home stay.
    assert relation.number != 1
    assert relation.tenant == federation.department11
    assert relation.history.latest().history_user == federation.province_la


def test_it_changes_nothing_when_an_update_is_refused(federation):
    relation = make_relation(federation.department11, postcode="6701 AB", city="Wageningen")

    with pytest.raises(ValidationError) as excinfo:
        services.relation_update(actor=federation.province_la, relation=relation,
                                 data={"postcode": "67011", "city": "Ede"})

    assert set(excinfo.value.message_dict) == {"postcode"}
    relation.refresh_from_db()
    assert (relation.postcode, relation.city) == ("6701 AB", "Wageningen")


def test_it_validates_custom_values_on_update(federation):
    custom_field(federation.national, "schoenmaat", CustomFieldType.NUMBER)
    relation = make_relation(federation.department11, extra={"schoenmaat": "40"})

    with pytest.raises(ValidationError) as excinfo:
        services.relation_update(actor=federation.province_la, relation=relation, data={},
                                 extra={"schoenmaat": "abc"})

    assert set(excinfo.value.message_dict) == {"extra_schoenmaat"}
    relation.refresh_from_db()
    assert relation.extra == {"schoenmaat": 40}


def test_it_keeps_the_login_email_equal_to_the_cards(federation):
    relation = make_relation(federation.department11, email="oud@example.org")
    give_function(relation, federation.department11, "department_member_administration")
    relation.refresh_from_db()

    services.relation_update(actor=federation.province_sb, relation=relation, data={"email": "nieuw@example.org"})

    assert User.objects.get(relation=relation).email == "nieuw@example.org"


def test_it_refuses_a_card_email_that_another_login_uses(federation):
    relation = make_relation(federation.department11, email="oud@example.org")
    give_function(relation, federation.department11, "department_member_administration")
    relation.refresh_from_db()
    UserFactory(email="bezet@example.org")

    with pytest.raises(ValidationError) as excinfo:
        services.relation_update(actor=federation.province_sb, relation=relation,
                                 data={"email": "Bezet@Example.org"})

    assert set(excinfo.value.message_dict) == {"email"}
    relation.refresh_from_db()
    assert relation.email == "oud@example.org"
    assert User.objects.get(relation=relation).email == "oud@example.org"


def test_it_lets_a_card_without_a_login_share_an_email(federation):
    UserFactory(email="gezin@example.org")
    relation = make_relation(federation.department11)

    services.relation_update(actor=federation.province_sb, relation=relation, data={"email": "gezin@example.org"})

    relation.refresh_from_db()
    assert relation.email == "gezin@example.org"


# --- magazine ----------------------------------------------------------------------------------


def test_it_blocks_the_magazine_for_all_but_the_oldest_at_an_address(federation):
    address = {"postcode": "7001 AB", "house_number": 12}
    younger = make_relation(federation.department11, first_name="Tim", birth_date=datetime.date(2008, 5, 1), **address)
    oldest = make_relation(federation.department11, first_name="Eva", birth_date=datetime.date(2001, 3, 9), **address)
    middle = make_relation(federation.department12, first_name="Sem", birth_date=datetime.date(2004, 1, 1), **address)

    blocked = services.magazine_block_all_but_oldest(actor=federation.province_sb,
                                                     relations=[younger, oldest, middle])

    assert {r.pk for r in blocked} == {younger.pk, middle.pk}
    delivery = dict(Relation.objects.values_list("pk", "magazine_delivery"))
    assert delivery == {
        younger.pk: MagazineDelivery.BLOCKED, oldest.pk: MagazineDelivery.AUTOMATIC,
        middle.pk: MagazineDelivery.BLOCKED,
    }
    assert younger.history.latest().history_user == federation.province_sb


def test_it_counts_a_relation_without_a_birth_date_as_the_youngest(federation):
    unknown = make_relation(federation.department11, first_name="Onbekend")
    known = make_relation(federation.department11, first_name="Bekend", birth_date=datetime.date(2010, 1, 1))

    services.magazine_block_all_but_oldest(actor=federation.province_sb, relations=[unknown, known])

    unknown.refresh_from_db()
    known.refresh_from_db()
    assert (unknown.magazine_delivery, known.magazine_delivery) == (MagazineDelivery.BLOCKED, MagazineDelivery.AUTOMATIC)


def test_it_blocks_nothing_when_only_one_relation_gets_the_magazine(federation):
    blocked_already = make_relation(federation.department11, magazine_delivery=MagazineDelivery.BLOCKED,
                                    birth_date=datetime.date(1999, 1, 1))
    receiving = make_relation(federation.department11, birth_date=datetime.date(2005, 1, 1))

    assert services.magazine_block_all_but_oldest(actor=federation.province_sb,
                                                  relations=[blocked_already, receiving]) == []
    receiving.refresh_from_db()
    assert receiving.magazine_delivery == MagazineDelivery.AUTOMATIC


# --- communication log -------------------------------------------------------------------------


def test_it_adds_a_communication_entry_dated_today(federation):
    relation = make_relation(federation.department11)

    entry = services.communication_entry_add(actor=federation.province_la, relation=relation,
                                             tenant=federation.province1, subject="Gebeld over contributie")

    assert (entry.date, entry.created_by, entry.channel) == (TODAY, federation.province_la, "manual")
    assert list(relation.communication.all()) == [entry]


def test_it_refuses_a_communication_entry_without_a_subject(federation):
    relation = make_relation(federation.department11)

    with pytest.raises(ValidationError) as excinfo:
        services.communication_entry_add(actor=federation.province_la, relation=relation,
                                         tenant=federation.province1, subject="")

    assert "subject" in excinfo.value.message_dict
    assert CommunicationEntry.objects.count() == 0
