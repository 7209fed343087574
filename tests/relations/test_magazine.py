"""Addresses that receive more than one magazine, and blocking all but the oldest member."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from memberships.models import Function
from relations.models import MagazineDelivery, Relation
from tenants.models import Role
from tests.factories import UserFactory, give_role, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


def resident(tenant, first_name, birth_date, postcode="6741 AB", house_number=12, suffix="", **data):
    return make_relation(tenant, first_name=first_name, birth_date=birth_date, postcode=postcode,
                         house_number=house_number, house_number_suffix=suffix, **data)


@pytest.fixture
def household(federation):
    """Three members at 6741 AB 12 in department 1.1 (mother, son, daughter)."""
    return {
        "mother": resident(federation.department11, "Moeder", datetime.date(1970, 3, 1)),
        "son": resident(federation.department11, "Zoon", datetime.date(2001, 6, 1)),
        "daughter": resident(federation.department12, "Dochter", datetime.date(2004, 9, 1)),
    }


def addresses(response) -> dict[str, list[Relation]]:
    return {row["key"]: row["people"] for row in response.context["rows"]}


def test_it_lists_addresses_with_several_magazines_oldest_member_first(federation, login, household):
    resident(federation.department11, "Alleen", datetime.date(1980, 1, 1), house_number=14)
    client = login(federation.province_sb)
    response = client.get(reverse("magazine_addresses"))
    assert response.status_code == 200
    assert addresses(response) == {
        "6741 AB|12|": [household["mother"], household["son"], household["daughter"]]
    }
    assert response.context["rows"][0]["copies"] == 3


def test_it_tells_house_number_suffixes_apart(federation, login):
    resident(federation.department11, "A", datetime.date(1980, 1, 1), suffix="A")
    resident(federation.department11, "B", datetime.date(1981, 1, 1), suffix="B")
    client = login(federation.province_sb)
    assert addresses(client.get(reverse("magazine_addresses"))) == {}


def test_it_leaves_out_blocked_relations_and_former_members(federation, login, household):
    Relation.objects.filter(pk=household["son"].pk).update(magazine_delivery=MagazineDelivery.BLOCKED)
    Function.objects.filter(relation=household["daughter"]).update(end_date=TODAY - datetime.timedelta(days=1))
    client = login(federation.province_sb)
    assert addresses(client.get(reverse("magazine_addresses"))) == {}


def test_it_counts_only_relations_visible_in_the_environment(federation, login, household):
    cousin = resident(federation.department21, "Neef", datetime.date(1960, 1, 1))
    client = login(federation.province_sb)
    assert cousin not in addresses(client.get(reverse("magazine_addresses")))["6741 AB|12|"]
    client = login(federation.national_sb)
    assert addresses(client.get(reverse("magazine_addresses")))["6741 AB|12|"][0] == cousin


def test_it_blocks_all_but_the_oldest_member(federation, login, household):
    client = login(federation.province_sb)
    response = client.post(reverse("magazine_block"), {"address": "6741 AB|12|"})
    assert response.status_code == 302
    delivery = dict(Relation.objects.values_list("first_name", "magazine_delivery"))
    assert delivery == {"Moeder": "automatic", "Zoon": "blocked", "Dochter": "blocked"}
    assert addresses(client.get(reverse("magazine_addresses"))) == {}


def test_it_blocks_nothing_outside_the_environment(federation, login):
    resident(federation.department21, "Oud", datetime.date(1950, 1, 1))
    resident(federation.department21, "Jong", datetime.date(1990, 1, 1))
    client = login(federation.province_sb)
    response = client.post(reverse("magazine_block"), {"address": "6741 AB|12|"})
    assert response.status_code == 302
    assert set(Relation.objects.values_list("magazine_delivery", flat=True)) == {"automatic"}


def test_it_keeps_the_oldest_member_even_if_an_older_relation_is_no_member(federation, login, household):
    Function.objects.filter(relation=household["mother"]).update(end_date=TODAY - datetime.timedelta(days=1))
    client = login(federation.province_sb)
    client.post(reverse("magazine_block"), {"address": "6741 AB|12|"})
    delivery = dict(Relation.objects.values_list("first_name", "magazine_delivery"))
    assert delivery == {"Moeder": "automatic", "Zoon": "automatic", "Dochter": "blocked"}


@pytest.mark.parametrize("key", ["", "nonsense", "6741 AB|twelve|", "|12|"])
def test_it_refuses_a_malformed_address_key(federation, login, household, key):
    client = login(federation.province_sb)
    response = client.post(reverse("magazine_block"), {"address": key})
    assert response.status_code == 302
    assert set(Relation.objects.values_list("magazine_delivery", flat=True)) == {"automatic"}


def test_it_refuses_a_get_to_the_block_action(federation, login, household):
    client = login(federation.province_sb)
    assert client.get(reverse("magazine_block")).status_code == 405


def test_it_refuses_someone_without_the_change_permission(federation, login, household):
    role = Role.objects.create(code="reader", name="Reader", tenant_kind="province")
    role.permissions.set(Permission.objects.filter(codename__in=["view_relation", "view_tenant"]))
    reader = UserFactory(username="reader", tenant=federation.province1)
    give_role(reader, federation.province1, "reader")
    client = login(reader)
    assert client.get(reverse("magazine_addresses")).status_code == 403
    assert client.post(reverse("magazine_block"), {"address": "6741 AB|12|"}).status_code == 403
    assert set(Relation.objects.values_list("magazine_delivery", flat=True)) == {"automatic"}


def test_it_refuses_someone_without_an_environment(federation, login):
    client = login(federation.outsider)
    assert client.get(reverse("magazine_addresses")).status_code == 403


def test_it_lists_the_addresses_in_few_queries(federation, login, django_assert_max_num_queries):
    for n in range(10):
        resident(federation.department11, f"Oud{n}", datetime.date(1960, 1, 1 + n), house_number=n + 1)
        resident(federation.department12, f"Jong{n}", datetime.date(1990, 1, 1 + n), house_number=n + 1)
    client = login(federation.province_sb)
    client.get(reverse("magazine_addresses"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("magazine_addresses"))
    assert len(response.context["rows"]) == 10
