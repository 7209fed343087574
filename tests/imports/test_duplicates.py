"""Duplicate detection against an oracle written here: which pairs must be found, with which
reasons; PostgreSQL's pg_trgm and the portable fallback give the same answer."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.db import connection

from imports import duplicates
from imports.models import DuplicateCandidate
from relations.models import Relation
from tests.factories import make_relation

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(1980, 5, 17)


@pytest.fixture
def people(federation):
    d11, d12, d21 = federation.department11, federation.department12, federation.department21
    return {
        "jan": make_relation(d11, first_name="Jan", last_name="Jansen", birth_date=BIRTH, email="jan@example.nl"),
        "jan_typo": make_relation(d12, first_name="Jan", last_name="Janssen", birth_date=BIRTH),
        "piet_same_birth": make_relation(d11, first_name="Piet", last_name="Bakker", birth_date=BIRTH),
        "mail_twin": make_relation(d21, first_name="Johannes", last_name="Smit", email="JAN@example.nl"),
        "house_a": make_relation(d11, first_name="Anna", last_name="de Wit", postcode="1234 AB", house_number=5),
        "house_b": make_relation(d12, first_name="Anna", last_name="Wit", postcode="1234 AB", house_number=5),
        "house_other": make_relation(d11, first_name="Kees", last_name="Mulder", postcode="1234 AB", house_number=5),
    }


def oracle(people) -> dict[tuple[int, int], set[str]]:
    """Pairs and reasons, by hand."""
    expected = {
        ("jan", "jan_typo"): {"birth_name"},
        ("jan", "mail_twin"): {"email"},
        ("house_a", "house_b"): {"address_name"},
    }
    found = {}
    for (x, y), reasons in expected.items():
        a, b = sorted((people[x].pk, people[y].pk))
        found[(a, b)] = reasons
    return found


def test_it_measures_names_the_way_pg_trgm_does():
    assert duplicates.similarity("Jan Jansen", "Jan Jansen") == 1.0
    assert duplicates.similarity("Jan Jansen", "Jan Janssen") > 0.5
    assert duplicates.similarity("Jan Jansen", "Piet Bakker") < 0.2
    if duplicates.pg_trgm_available():
        with connection.cursor() as cursor:
            for a, b in itertools.combinations(["Jan Jansen", "Jan Janssen", "Anna de Wit", "Anna Wit", "Zoë Brontë"], 2):
                cursor.execute("SELECT similarity(%s, %s)", [a, b])
                assert duplicates.similarity(a, b) == pytest.approx(cursor.fetchone()[0], abs=1e-6), (a, b)


def test_it_finds_the_pairs_of_the_oracle_in_python(people):
    found = duplicates.find_pairs_python(Relation.objects.all())
    assert {k: set(p.reasons) for k, p in found.items()} == oracle(people)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
def test_it_finds_the_same_pairs_with_pg_trgm(people):
    assert duplicates.pg_trgm_available()
    python = duplicates.find_pairs_python(Relation.objects.all())
    database = duplicates.find_pairs_postgresql(Relation.objects.all())
    assert {k: (set(p.reasons), p.score) for k, p in database.items()} == {k: (set(p.reasons), p.score) for k, p in python.items()}


def test_it_stores_pairs_and_remembers_not_a_duplicate(people, federation):
    assert duplicates.duplicate_scan(queryset=Relation.objects.all()) == 3
    a, b = sorted((people["jan"].pk, people["jan_typo"].pk))
    pair = DuplicateCandidate.objects.get(relation_a=a, relation_b=b)
    duplicates.duplicate_dismiss(actor=federation.national_sb, candidate=pair)

    assert duplicates.duplicate_scan(queryset=Relation.objects.all()) == 2
    assert DuplicateCandidate.objects.filter(pk=pair.pk, dismissed_at__isnull=False).exists()


def test_it_scans_only_the_environment_asked_for(people, federation):
    scope = Relation.objects.filter(federation.province1.subtree_filter("tenant"))
    assert duplicates.duplicate_scan(queryset=scope) == 2  # the e-mail twin lives in province 2
