"""The demo relations loader (demo/relations.py) and `seed_demo --members`."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.db.models import Count, F

from demo import relations as demo
from memberships.models import Function
from relations import services
from relations.models import CustomField, Relation
from relations.views.card import relation_history_events

pytestmark = pytest.mark.django_db

DEPARTMENTS = ("department11", "department12", "department21", "department22")


@pytest.fixture
def loaded(federation):
    demo.populate(200, rng_seed=7, national=federation.national)
    return federation


def test_it_loads_the_relations_asked_for_spread_over_every_department(loaded):
    assert Relation.objects.count() == 200
    homes = set(Relation.objects.values_list("tenant_id", flat=True))
    assert homes == {loaded.tenants[key].pk for key in DEPARTMENTS}


def test_it_gives_every_relation_a_membership_in_its_home_department(loaded):
    without = Relation.objects.exclude(functions__function_type__counts_as_membership=True)
    assert not without.exists()
    for relation in Relation.objects.prefetch_related("functions__function_type"):
        memberships = [f for f in relation.functions.all() if f.function_type.counts_as_membership]
        latest = max(memberships, key=lambda f: f.start_date)
        assert latest.tenant_id == relation.tenant_id


def test_it_mixes_running_ended_aspirant_and_board_functions(loaded):
    today = datetime.date.today()
    functions = Function.objects.all()
    assert functions.count() > 200
    ended = functions.filter(function_type__code="department_member", end_date__lt=today)
    assert ended.exists()
    assert not ended.filter(cancellation_reason__isnull=True).exclude(cancellation_note__startswith="Overgeschreven").exists()
    assert functions.filter(function_type__code="aspirant_member", end_date__isnull=True).exists()
    assert functions.filter(function_type__category="board").exists()
    assert not functions.filter(end_date__lt=F("start_date")).exists()


def test_it_puts_some_relations_at_a_shared_address(loaded):
    shared = (
        Relation.objects.values("postcode", "house_number", "house_number_suffix")
        .annotate(n=Count("pk")).filter(n__gt=1)
    )
    assert shared.exists()


def test_it_writes_cards_the_services_would_accept(loaded):
    fields = services.custom_fields_for(loaded.department11)
    assert {f.code for f in fields} == {"diploma", "werksituatie"}
    assert CustomField.objects.filter(tenant=loaded.national).count() == 2
    today = datetime.date.today()
    for relation in Relation.objects.all():
        stored = (relation.postcode, relation.extra, relation.search_text)
        services.relation_validate(relation)
        assert services.custom_values_clean(fields, relation.extra) == relation.extra
        assert (relation.postcode, relation.extra, services.search_text_for(relation)) == stored
        assert datetime.date(1990, 1, 1) <= relation.birth_date <= datetime.date(2012, 12, 31) < today
        assert relation.last_name and relation.first_name and relation.initials
    assert Relation.objects.exclude(infix="").exists()
    assert Relation.objects.filter(email="").exists()
    assert Relation.objects.exclude(extra={}).exists()


def test_it_gives_consecutive_numbers_and_moves_the_counter_past_them(loaded):
    numbers = sorted(Relation.objects.values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + 200))
    assert services.relation_number_next() == numbers[-1] + 1


def test_it_gives_every_loaded_card_and_function_a_first_history_row_with_its_values(loaded):
    assert Relation.history.filter(history_type="+").count() == 200
    assert Function.history.filter(history_type="+").count() == Function.objects.count()
    relation = Relation.objects.order_by("number").first()
    first = Relation.history.get(id=relation.pk)
    assert (first.last_name, first.postcode, first.history_date) == (relation.last_name, relation.postcode, relation.created_at)


def test_it_shows_old_and_new_values_at_the_first_change_of_a_loaded_card(loaded):
    relation = Relation.objects.order_by("number").first()
    old_city = relation.city

    services.relation_update(actor=None, relation=relation, data={"city": "Nieuwegein"})

    events = relation_history_events(relation)
    changes = [(str(c.field), c.old, c.new) for event in events for c in event.changes]
    assert any(old == old_city and new == "Nieuwegein" for _field, old, new in changes)


def test_it_shows_old_and_new_values_at_the_first_change_of_a_card_without_history(loaded):
    # Cards written before the loader kept history (the 1,000,000-relation database).
    relation = Relation.objects.order_by("number").first()
    Relation.history.filter(id=relation.pk).delete()
    old_city = relation.city

    services.relation_update(actor=None, relation=relation, data={"city": "Nieuwegein"})

    changes = [(c.old, c.new) for event in relation_history_events(relation) for c in event.changes]
    assert (old_city, "Nieuwegein") in changes


def test_it_tops_up_to_the_total_asked_for(loaded):
    assert demo.populate(200, rng_seed=7, national=loaded.national) == 0
    assert Relation.objects.count() == 200

    assert demo.populate(230, rng_seed=7, national=loaded.national) == 30

    assert Relation.objects.count() == 230
    assert CustomField.objects.count() == 2
    assert Relation.objects.values("number").distinct().count() == 230


def test_it_reports_progress(federation):
    lines = []

    demo.populate(20, national=federation.national, progress=lines.append)

    assert lines and "20" in lines[-1]


def test_it_fills_the_demo_federation_from_seed_demo():
    out = io.StringIO()

    call_command("seed_demo", "--members", "60", stdout=out)
    call_command("seed_demo", "--members", "60", stdout=out)

    assert Relation.objects.count() == 60
    assert Relation.objects.filter(tenant__kind="department").count() == 60
    assert "60" in out.getvalue()
    # One demo member has a login for the member portal, without any role (issue 18).
    member = Relation.objects.get(email="lid@demo.example")
    assert member.user is not None and not member.user.role_assignments.exists()
    assert "lid@demo.example" in out.getvalue()


# --- bench_relations (a smoke test: the command runs end to end; it measures nothing here) -----


def test_it_refuses_to_benchmark_sqlite_unless_allowed(settings):
    from django.core.management.base import CommandError
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the refusal is about SQLite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("bench_relations", "--members", "10", stdout=io.StringIO())
    with pytest.raises(CommandError, match="at most"):
        call_command("bench_relations", "--members", "1000000", "--allow-sqlite", stdout=io.StringIO())


def test_it_benchmarks_every_page_for_both_demo_users():
    out = io.StringIO()

    call_command("bench_relations", "--members", "40", "--requests", "2", "--warm-up", "0", "--allow-sqlite", stdout=out)

    report = out.getvalue()
    assert Relation.objects.count() == 40
    for username in ("landelijk.sb", "provincie.sb"):
        for page in ("search", "column filter", "member on date", "relation card"):
            assert any(line.startswith(username) and page in line for line in report.splitlines()), (username, page)
    from django.db import connection

    if connection.vendor == "postgresql":  # the search terms against their hand-written SQL
        assert "Within the target: " in report
        assert any(line.startswith("provincie.sb") and "fsw" in line for line in report.splitlines())
