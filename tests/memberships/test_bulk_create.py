"""The bulk use cases of the import write what the one-card use cases write: the rows, one
history row each with the actor and the reason, and the data-quality recheck. On PostgreSQL they
go through COPY, INSERT … SELECT and UPDATE … FROM unnest; run with DATABASE_URL to cover those."""

from __future__ import annotations

import datetime

import pytest

from memberships.card import NewMember, relations_create_bulk, relations_delete_bulk
from memberships.models import Function, FunctionType
from quality.models import DataProblem
from relations.models import Relation
from relations.services import relations_update_bulk
from tests.factories import make_relation

pytestmark = pytest.mark.django_db

REASON = "import leden.csv door test"


def _members(federation, count: int) -> list[NewMember]:
    membership = FunctionType.objects.get(code="department_member")
    department = federation.department11
    return [
        NewMember(
            tenant=department, function_type=membership, function_tenant=department,
            start_date=datetime.date(2026, 1, 1),
            data={"kind": "person", "first_name": f"Lid{n}", "last_name": "Bulk", "email": "",
                  "birth_date": datetime.date(1980, 1, 1 + n % 28), "postcode": "1234ab", "country": "NL"},
            extra={},
        )
        for n in range(count)
    ]


def test_it_creates_cards_with_functions_and_their_history(federation):
    actor = federation.province_la
    made = relations_create_bulk(actor=actor, members=_members(federation, 5), reason=REASON)

    assert len(made) == 5
    numbers = [relation.number for relation, _function in made]
    assert numbers == sorted(numbers) and len(set(numbers)) == 5
    for relation, function in made:
        stored = Relation.objects.get(pk=relation.pk)
        assert (stored.first_name, stored.postcode, stored.search_text) == (relation.first_name, "1234 AB", relation.search_text)
        assert Function.objects.get(pk=function.pk).relation_id == relation.pk
        (history,) = stored.history.all()
        assert (history.history_type, history.history_change_reason, history.history_user_id) == ("+", REASON, actor.pk)
        assert history.first_name == relation.first_name and history.tenant_id == federation.department11.pk
        (function_history,) = Function.history.filter(id=function.pk)
        assert (function_history.history_type, function_history.history_change_reason) == ("+", REASON)
    # The recheck ran: no e-mail address is a data problem of a member.
    assert DataProblem.objects.filter(relation_id=made[0][0].pk, rule="missing_email", closed_on__isnull=True).exists()


def test_it_updates_cards_with_one_history_row_each(federation):
    actor = federation.province_la
    first = make_relation(federation.department11, last_name="Een", email="een@example.nl", extra={})
    second = make_relation(federation.department12, last_name="Twee", birth_date=datetime.date(1970, 5, 5))
    before = {first.pk: first.history.count(), second.pk: second.history.count()}

    updated = relations_update_bulk(actor=actor, reason=REASON, changes=[
        (first.pk, {"city": "Zwolle", "birth_date": datetime.date(1990, 2, 3), "email": ""}, None),
        (second.pk, {"city": "Ede", "birth_date": None, "house_number": 12}, None),
    ])

    assert [r.pk for r in updated] == [first.pk, second.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.city, first.birth_date, first.email) == ("Zwolle", datetime.date(1990, 2, 3), "")
    assert (second.city, second.birth_date, second.house_number) == ("Ede", None, 12)
    assert "zwolle" in first.search_text.lower()
    for card in (first, second):
        assert card.history.count() == before[card.pk] + 1
        latest = card.history.latest()
        assert (latest.history_type, latest.history_change_reason, latest.history_user_id) == ("~", REASON, actor.pk)
        assert latest.city == card.city
    assert DataProblem.objects.filter(relation_id=first.pk, rule="missing_email", closed_on__isnull=True).exists()


def test_the_bulk_delete_takes_cards_back_with_their_functions_and_history(federation):
    made = relations_create_bulk(actor=federation.province_la, members=_members(federation, 3), reason=REASON)
    kept = make_relation(federation.department11, last_name="Blijft")
    ids = [relation.pk for relation, _function in made]

    relations_delete_bulk(actor=federation.province_la, relation_ids=ids, reason="ongedaan")

    assert list(Relation.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Function.objects.filter(relation_id__in=ids).exists()
    for pk in ids:
        gone = Relation.history.get(id=pk, history_type="-")
        assert (gone.history_user, gone.history_change_reason) == (federation.province_la, "ongedaan")
        assert Function.history.get(relation_id=pk, history_type="-").history_user == federation.province_la

