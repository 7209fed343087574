"""The open-problem lifecycle (SPEC N2): one row per open (relation, rule), first and last seen,
closed by saving the card or by the nightly check, a new row when the problem comes back."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError

from quality import services as quality
from quality.jobs import job_run
from quality.models import DataProblem, JobRun
from relations.models import Relation
from relations.services import relation_update

from .quality_world import TODAY, build_world

pytestmark = pytest.mark.django_db

DAY1 = TODAY - datetime.timedelta(days=2)
DAY2 = TODAY - datetime.timedelta(days=1)


@pytest.fixture
def world(federation):
    world = build_world(federation)
    # The world's cards were saved through the services, which already opened problems; start
    # these tests from a clean table so the nightly run is what opens them.
    DataProblem.objects.all().delete()
    return world


def _rows(relation, rule="missing_email"):
    return list(DataProblem.objects.filter(relation=relation, rule=rule).order_by("pk"))


def test_it_opens_one_row_per_relation_and_rule_and_keeps_it_while_open(world):
    quality.checks_run(DAY1)
    quality.checks_run(DAY2)
    (row,) = _rows(world["no_email"])
    assert (row.first_seen, row.last_seen, row.closed_on) == (DAY1, DAY2, None)


def test_it_adds_no_duplicate_rows_when_run_twice_for_the_same_day(world):
    first = quality.checks_run(TODAY)
    rows = list(DataProblem.objects.order_by("pk").values_list("pk", "relation_id", "rule", "closed_on"))
    second = quality.checks_run(TODAY)
    assert first["opened"] == len(rows) > 0
    assert (second["opened"], second["closed"], second["still_open"]) == (0, 0, len(rows))
    assert list(DataProblem.objects.order_by("pk").values_list("pk", "relation_id", "rule", "closed_on")) == rows


def test_it_closes_a_problem_when_the_card_is_saved_fixed(world, federation):
    quality.checks_run(DAY1)
    relation_update(actor=federation.province_la, relation=world["no_email"], data={"email": "nu@example.org"})
    (row,) = _rows(world["no_email"])
    assert (row.closed_on, row.closed_by) == (TODAY, DataProblem.ClosedBy.SAVE)
    # The nightly check confirms: nothing reopens.
    quality.checks_run(TODAY)
    assert [r.closed_on for r in _rows(world["no_email"])] == [TODAY]


def test_it_closes_a_problem_at_the_nightly_check_when_the_card_was_fixed_without_a_save(world):
    quality.checks_run(DAY1)
    Relation.objects.filter(pk=world["no_email"].pk).update(email="import@example.org")
    result = quality.checks_run(DAY2)
    (row,) = _rows(world["no_email"])
    assert (row.closed_on, row.closed_by) == (DAY2, DataProblem.ClosedBy.CHECK)
    assert result["rules"]["missing_email"]["closed"] == 1


def test_it_opens_a_new_row_when_a_closed_problem_comes_back(world, federation):
    quality.checks_run(DAY1)
    relation = world["no_email"]
    relation_update(actor=federation.province_la, relation=relation, data={"email": "nu@example.org"})
    relation_update(actor=federation.province_la, relation=relation, data={"email": ""})
    old, new = _rows(relation)
    assert old.closed_on == TODAY
    assert (new.first_seen, new.closed_on) == (TODAY, None)
    quality.checks_run(TODAY)
    assert len(_rows(relation)) == 2


def test_it_opens_a_problem_when_a_saved_card_breaks_a_rule(world, federation):
    relation_update(actor=federation.province_la, relation=world["complete"], data={"birth_date": None})
    (row,) = _rows(world["complete"], "missing_birth_date")
    assert (row.first_seen, row.last_seen, row.closed_on) == (TODAY, TODAY, None)


def test_it_checks_a_saved_card_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    quality.checks_run(TODAY)
    with django_assert_max_num_queries(6):
        quality.relation_recheck(relation_id=world["no_email"].pk)


def test_it_closes_the_problems_of_a_rule_switched_off_and_leaves_them_closed(world):
    quality.checks_run(DAY1)
    codes = [rule.code for rule in quality.active_rules() if rule.code != "missing_email"]
    assert quality.rule_settings_save(active_codes=codes) == ["missing_email"]
    (row,) = _rows(world["no_email"])
    assert row.closed_by == DataProblem.ClosedBy.RULE_OFF
    quality.checks_run(DAY2)
    assert len(_rows(world["no_email"])) == 1
    assert "missing_email" not in {rule.code for rule in quality.active_rules()}


def test_it_checks_the_rules_off_by_default_only_when_national_switches_them_on(world):
    quality.checks_run(DAY1)
    assert not _rows(world["no_phone"], "missing_phone")
    quality.rule_settings_save(active_codes=[*[r.code for r in quality.active_rules()], "missing_phone"])
    quality.checks_run(DAY2)
    assert len(_rows(world["no_phone"], "missing_phone")) == 1


def test_it_reports_a_failing_rule_in_the_run_record_and_runs_the_others(world, monkeypatch):
    def broken(day):
        raise DatabaseError("the rule's query failed")

    rules = tuple(
        quality.Rule(r.code, r.description, r.severity, broken, r.default_active, r.mandatory_field)
        if r.code == "missing_birth_date" else r
        for r in quality.RULES
    )
    monkeypatch.setattr(quality, "RULES", rules)
    run, did = job_run("quality_checks", TODAY)
    assert did and run.status == JobRun.Status.FINISHED
    assert run.errors == [{"rule": "missing_birth_date", "error": "DatabaseError: the rule's query failed"}]
    assert "missing_birth_date" not in run.counts["rules"]
    assert len(_rows(world["no_email"])) == 1
    assert not _rows(world["no_birth_date"], "missing_birth_date")
