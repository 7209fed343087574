"""Test data for the data-quality tests: relation cards that break each rule, cards that break
none, and history that no rule may look at. Bad data is written with queryset updates and plain
model saves, the way a legacy import would leave it — the services refuse most of it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from memberships.models import Function, FunctionType
from relations.models import CustomField, Relation
from tests.factories import make_relation

TODAY = datetime.date.today()

COMPLETE = {
    "email": "jan@example.org", "birth_date": datetime.date(2000, 5, 1), "postcode": "1234 AB",
    "house_number": 1, "street": "Dorpsstraat", "city": "Ergens", "gender": "m", "mobile": "0612345678",
}


@dataclass
class World:
    relations: dict[str, Relation] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Relation:
        return self.relations[key]


def _add_function(relation: Relation, tenant, code: str, start: datetime.date, end: datetime.date | None = None):
    return Function.objects.create(
        relation=relation, tenant=tenant, function_type=FunctionType.objects.get(code=code),
        start_date=start, end_date=end,
    )


def build_world(federation) -> World:
    d11, d12, d21 = federation.department11, federation.department12, federation.department21
    world = World()

    def card(key: str, tenant, **data) -> Relation:
        relation = make_relation(tenant, last_name=key.replace("_", " ").title(), **{**COMPLETE, **data})
        world.relations[key] = relation
        return relation

    card("complete", d11)
    card("complete_d21", d21)
    card("no_email", d11, email="")
    card("no_birth_date", d12, birth_date=None)
    card("no_street", d21, street="")
    card("no_house_number", d11, house_number=None)
    card("no_phone", d11, mobile="", phone="")
    card("no_gender", d12, gender="")
    bad_postcode = card("bad_postcode", d11)
    Relation.objects.filter(pk=bad_postcode.pk).update(postcode="12345")
    belgian = card("belgian_ok", d21, country="BE", postcode="1000")
    Relation.objects.filter(pk=belgian.pk).update(postcode="1000")
    german = card("german_free_form", d21)
    Relation.objects.filter(pk=german.pk).update(country="DE", postcode="D-80331")
    # A board member of department 1.1 whose membership ended: member without department.
    board = card("board_without_membership", d11, function_code="department_board_member")
    # A membership held in a province: wrong kind, and no department membership either.
    in_province = card("membership_in_province", d11, function_code="department_board_member")
    Function.objects.filter(relation=in_province).delete()
    _add_function(in_province, federation.province1, "department_member", TODAY - datetime.timedelta(days=50))
    # A sponsor (held in a province, as it should be) is not a member: no department needed.
    card("sponsor", federation.province1, function_code="sponsor")
    # Aspirants: one from last year (overdue), one who started on the conversion date.
    old = card("aspirant_old", d12, function_code="aspirant_member",
               start_date=datetime.date(TODAY.year - 1, 6, 1))
    new = card("aspirant_new", d12, function_code="aspirant_member", start_date=datetime.date(TODAY.year, 1, 1))
    assert old and new
    # Former member: everything missing, but every function ended — history, not checked.
    former = card("former", d11, email="", birth_date=None, street="")
    Function.objects.filter(relation=former).update(
        start_date=TODAY - datetime.timedelta(days=400), end_date=TODAY - datetime.timedelta(days=10)
    )
    # Future member: the membership starts next month — not current yet.
    future = card("future", d11, email="")
    Function.objects.filter(relation=future).update(start_date=TODAY + datetime.timedelta(days=30))
    # The board member's membership: give it and end it, leaving only the board function current.
    Function.objects.filter(relation=board).update(start_date=TODAY - datetime.timedelta(days=20))
    _add_function(board, d11, "department_member", TODAY - datetime.timedelta(days=300), TODAY - datetime.timedelta(days=30))
    # Required custom field of province 1 ("diploma"): missing, blank, null, filled; province 2
    # is not bound by it. Made last: the service would refuse the cards without it.
    missing = card("custom_missing", d11)
    blank = card("custom_blank", d12)
    null = card("custom_null", d12)
    CustomField.objects.create(tenant=federation.province1, code="diploma", label="Diploma", field_type="text",
                               required=True)
    CustomField.objects.create(tenant=federation.national, code="hobby", label="Hobby", field_type="text")
    Relation.objects.filter(federation.province1.subtree_filter("tenant")).update(extra={"diploma": "HBO"})
    Relation.objects.filter(pk=missing.pk).update(extra={"hobby": "vissen"})
    Relation.objects.filter(pk=blank.pk).update(extra={"diploma": ""})
    Relation.objects.filter(pk=null.pk).update(extra={"diploma": None})
    for relation in world.relations.values():
        relation.refresh_from_db()
    return world
