"""Each data-quality rule against an oracle written here by hand: plain Python over every
relation and function, compared with the rule's bulk query."""

from __future__ import annotations

import datetime
import re

import pytest

from memberships.models import Function
from quality import services as quality
from relations.models import CustomField, Relation

from .quality_world import TODAY, build_world

pytestmark = pytest.mark.django_db

NL = re.compile(r"^[1-9][0-9]{3} ?[A-Z]{2}$")
BE = re.compile(r"^[1-9][0-9]{3}$")
MEMBER_CATEGORIES = {"membership", "aspirant", "board", "administration"}


def _current(function: Function, day: datetime.date) -> bool:
    return function.start_date <= day and (function.end_date is None or function.end_date >= day)


def _oracle(day: datetime.date) -> dict[str, set[int]]:
    functions: dict[int, list[Function]] = {}
    for f in Function.objects.select_related("function_type", "tenant"):
        functions.setdefault(f.relation_id, []).append(f)
    required = list(CustomField.objects.filter(required=True).select_related("tenant"))
    found: dict[str, set[int]] = {rule.code: set() for rule in quality.RULES}
    for r in Relation.objects.select_related("tenant"):
        now = [f for f in functions.get(r.pk, []) if _current(f, day)]
        if not now:
            continue
        person = r.kind == "person"
        checks = {
            "missing_email": r.email == "",
            "missing_birth_date": person and r.birth_date is None,
            "missing_address": not r.postcode or r.house_number is None or not r.street or not r.city,
            "missing_phone": not r.phone and not r.mobile,
            "missing_gender": person and not r.gender,
            "invalid_postcode": bool(r.postcode) and (
                (r.country == "NL" and not NL.match(r.postcode)) or (r.country == "BE" and not BE.match(r.postcode))
            ),
            "member_without_department": any(f.function_type.category in MEMBER_CATEGORIES for f in now)
            and not any(f.function_type.counts_as_membership and f.tenant.kind == "department" for f in now),
            "function_wrong_kind": any(f.tenant.kind != f.function_type.tenant_kind for f in now),
            "aspirant_overdue": any(
                f.function_type.category == "aspirant" and f.start_date < datetime.date(day.year, 1, 1) for f in now
            ),
            "required_custom_field_empty": any(
                r.tenant.path.startswith(field.tenant.path) and (r.extra or {}).get(field.code) in (None, "")
                for field in required
            ),
        }
        for code, offends in checks.items():
            if offends:
                found[code].add(r.pk)
    return found


@pytest.fixture
def world(federation):
    return build_world(federation)


def test_it_has_an_oracle_for_every_rule(world):
    assert set(_oracle(TODAY)) == {rule.code for rule in quality.RULES}


@pytest.mark.parametrize("code", [rule.code for rule in quality.RULES])
def test_it_finds_exactly_the_relations_the_oracle_finds(world, code):
    rule = quality.RULES_BY_CODE[code]
    expected = _oracle(TODAY)[code]
    assert expected, f"the test world has no offender of {code}"
    assert set(rule.offenders(TODAY).values_list("pk", flat=True)) == expected


def test_it_knows_which_cards_break_which_rule(world):
    # The oracle itself, held against the story of the test world.
    found = _oracle(TODAY)
    assert found["missing_email"] == {world["no_email"].pk}
    assert found["invalid_postcode"] == {world["bad_postcode"].pk}
    assert found["member_without_department"] == {
        world["board_without_membership"].pk, world["membership_in_province"].pk
    }
    assert found["function_wrong_kind"] == {world["membership_in_province"].pk}
    assert found["aspirant_overdue"] == {world["aspirant_old"].pk}
    assert found["required_custom_field_empty"] == {
        world["custom_missing"].pk, world["custom_blank"].pk, world["custom_null"].pk
    }
    flagged = set().union(*found.values())
    for key in ("complete", "complete_d21", "sponsor", "former", "future", "aspirant_new", "belgian_ok",
                "german_free_form"):
        assert world[key].pk not in flagged, key


def test_it_finds_nothing_for_custom_fields_when_none_is_required(world):
    CustomField.objects.update(required=False)
    assert not quality.RULES_BY_CODE["required_custom_field_empty"].offenders(TODAY).exists()


def test_it_runs_each_rule_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    # Bulk, not one query per relation: the count does not grow with the number of cards.
    for rule in quality.RULES:
        with django_assert_max_num_queries(2):
            list(rule.offenders(TODAY).values_list("pk", flat=True))
