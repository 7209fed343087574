"""Every number of the membership flow against an oracle counted from the raw rows, for national,
a province and a department; the reconciliation; the counts kept up to date by the services;
the nightly check that reports counts that differ from the rows."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from dashboard.counts import count_from_rows, counts_rebuild, stored_counts, stored_pairs
from dashboard.models import CountMismatch
from dashboard.reports import member_figures, membership_flow, report_scope
from memberships.models import CancellationReason, Function, FunctionType
from memberships.services import (
    function_dates_correct,
    function_delete,
    function_end,
    member_transfer,
)
from quality.jobs import job_run
from relations.privacy import relation_anonymise
from relations.services import relation_update
from tests.factories import give_function, make_relation

from .world import TODAY

pytestmark = pytest.mark.django_db

FIRST = 2015


def _members(day, tenant):
    """The oracle: memberships held on `day` in `tenant` or below, by the one definition."""
    return Function.objects.memberships_held_on(day).in_subtree(tenant)


def _age_on(birth, day):
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _band(birth, day):
    if birth is None:
        return "?"
    age = _age_on(birth, day)
    for low, label in ((65, "65+"), (55, "55–64"), (45, "45–54"), (35, "35–44"), (25, "25–34"), (18, "18–24")):
        if age >= low:
            return label
    return "0–17"


def _season_days(year, report_day):
    start = datetime.date(year, 1, 1)
    end = datetime.date(year + 1, 1, 1)
    return start, (end if end <= report_day else report_day)


def _oracle(tenant, start, end, narrow=lambda qs: qs):
    on_start = narrow(_members(start, tenant))
    on_end = narrow(_members(end, tenant))
    both = narrow(_members(start, tenant).memberships_held_on(end))
    return on_start.count(), on_end.count(), both.count()


@pytest.mark.parametrize("key", ["national", "province1", "department11"])
def test_it_counts_every_number_like_the_raw_rows(history, federation, key):
    tenant = federation.tenants[key]
    today = timezone.localdate()
    scope = report_scope(environment=tenant, department_id=None, first=FIRST, last=today.year, today=today)
    report = membership_flow(scope, today=today)
    types = {str(t.pk): t for t in FunctionType.objects.memberships()}
    checked = 0
    for season in report.seasons:
        start, end = _season_days(season.year, today)
        total = season.total
        assert (total.start, total.end, total.stayed) == _oracle(tenant, start, end), season.label
        assert total.joined == total.end - total.stayed and total.left == total.start - total.stayed
        for row in season.breakdowns["gender"]:
            expected = _oracle(tenant, start, end, lambda qs, g=row.key: qs.filter(relation__gender=g))
            assert (row.start, row.end, row.stayed) == expected, (season.label, row.key)
        for row in season.breakdowns["type"]:
            expected = _oracle(tenant, start, end, lambda qs, t=types[row.key]: qs.filter(function_type=t))
            assert (row.start, row.end, row.stayed) == expected, (season.label, row.label)
        for dimension in ("department", "province"):
            for row in season.breakdowns[dimension]:
                part = federation.tenants[next(k for k, t in federation.tenants.items() if str(t.pk) == row.key)]
                # A department's report shows its province with the department's part only.
                part = tenant if tenant.is_within(part) else part
                assert (row.start, row.end, row.stayed) == _oracle(part, start, end), (season.label, row.label)
        # Age band on the season's first day, for start, end and stayed alike.
        by_band = {}
        for function in _members(start, tenant).select_related("relation"):
            band = _band(function.relation.birth_date, start)
            by_band.setdefault(band, [0, 0, 0])[0] += 1
        for function in _members(end, tenant).select_related("relation"):
            by_band.setdefault(_band(function.relation.birth_date, start), [0, 0, 0])[1] += 1
        for function in _members(start, tenant).memberships_held_on(end).select_related("relation"):
            by_band[_band(function.relation.birth_date, start)][2] += 1
        got = {row.key: [row.start, row.end, row.stayed] for row in season.breakdowns["age"]}
        assert got == {band: figures for band, figures in by_band.items() if any(figures)}, season.label
        checked += total.start + total.end
    assert checked > 20  # the history is there: the test compared real numbers


def test_it_adds_up_for_every_environment_and_its_children(history, federation):
    today = timezone.localdate()
    for tenant in federation.tenants.values():
        report = membership_flow(
            report_scope(environment=tenant, department_id=None, first=FIRST, last=today.year, today=today), today=today
        )
        for season in report.seasons:
            total = season.total
            assert total.start + total.joined - total.left == total.end
            # Every membership is held in a department: the departments (and the provinces) sum
            # to the environment, number by number.
            for dimension in ("department", "province", "gender", "age", "type"):
                rows = season.breakdowns[dimension]
                if dimension == "province" and tenant.kind == "department":
                    continue
                sums = [sum(getattr(r, f) for r in rows) for f in ("start", "joined", "left", "stayed", "end")]
                assert sums == [total.start, total.joined, total.left, total.stayed, total.end], (tenant, season.label, dimension)
                for row in rows:
                    assert row.start + row.joined - row.left == row.end


def test_it_never_counts_another_provinces_members(history, federation):
    today = timezone.localdate()
    report = membership_flow(
        report_scope(environment=federation.province1, department_id=None, first=FIRST, last=today.year, today=today),
        today=today,
    )
    outside = {str(federation.province2.pk), str(federation.department21.pk), str(federation.department22.pk)}
    for season in report.seasons:
        assert not {r.key for r in season.breakdowns["department"] + season.breakdowns["province"]} & outside
    figures = member_figures(federation.province1, today=today)
    assert figures.now == _members(today, federation.province1).count()


def test_it_shows_members_now_a_year_ago_and_this_seasons_changes(history, federation):
    today = timezone.localdate()
    figures = member_figures(federation.national, today=today)
    year_ago = today.replace(year=today.year - 1) if (today.month, today.day) != (2, 29) else today.replace(year=today.year - 1, day=28)
    season = datetime.date(today.year, 1, 1)
    assert figures.now == _members(today, federation.national).count()
    assert figures.year_ago == _members(year_ago, federation.national).count()
    stayed = _members(season, federation.national).memberships_held_on(today).count()
    assert figures.joined == figures.now - stayed
    assert figures.left == _members(season, federation.national).count() - stayed
    assert figures.joined >= 3  # the three made this season


def _kept_equals_rows():
    pairs = stored_pairs()
    assert stored_counts(pairs) == count_from_rows(pairs)


def test_it_keeps_the_counts_up_to_date_through_the_services(history, federation):
    _kept_equals_rows()
    actor = federation.national_sb
    # A new member, an extra membership, a card edit that changes gender and age band.
    relation = make_relation(federation.department22, gender="f", birth_date=datetime.date(2001, 1, 1),
                             start_date=datetime.date(2019, 6, 1))
    give_function(relation, federation.department12, "aspirant_member", start_date=datetime.date(2021, 2, 1))
    relation_update(actor=actor, relation=relation, data={"gender": "m", "birth_date": datetime.date(1940, 1, 1)})
    _kept_equals_rows()
    # Ending (today and later), transferring and deleting.
    new0 = history["new0"].functions.get()
    function_end(actor=actor, function=new0, end_date=TODAY + datetime.timedelta(days=10),
                 reason=CancellationReason.objects.first())
    moved = history["new1"].functions.get()
    member_transfer(actor=actor, function=moved, to_department=federation.department11, date=TODAY)
    function_delete(actor=actor, function=history["new2"].functions.get())
    _kept_equals_rows()
    # Erasing a person keeps the memberships but not the birth date: the age band changes.
    relation_anonymise(actor=actor, tenant=federation.national, relation=history["h1"].relation)
    _kept_equals_rows()
    result = counts_rebuild(timezone.localdate())
    assert result["mismatches"] == 0


def test_it_keeps_the_counts_up_to_date_through_a_date_correction(history, federation):
    actor = federation.national_sb
    # An earlier start, a later start, and an end date given to an open membership.
    function_dates_correct(actor=actor, function=history["h0"], start_date=datetime.date(2016, 6, 1), end_date=None)
    function_dates_correct(actor=actor, function=history["h6"], start_date=datetime.date(2023, 9, 1), end_date=None)
    function_dates_correct(actor=actor, function=history["h3"], start_date=history["h3"].start_date,
                           end_date=TODAY + datetime.timedelta(days=30))
    _kept_equals_rows()
    # The nightly check finds nothing to report.
    assert counts_rebuild(timezone.localdate())["mismatches"] == 0


def test_it_reports_counts_that_differ_from_the_rows_as_a_data_problem(history, federation):
    # A membership written around the services (a bulk load, a hand-made fix in the database).
    relation = history["h1"].relation
    Function.objects.create(relation=relation, tenant=federation.department12, start_date=datetime.date(2019, 1, 1),
                            function_type=FunctionType.objects.get(code="department_member"))
    run, did = job_run("membership_counts", timezone.localdate() + datetime.timedelta(days=1))
    assert did
    assert run.counts["mismatches"] > 0 and run.errors
    mismatch = CountMismatch.objects.filter(tenant=federation.department12, dimension="total", day=datetime.date(2019, 1, 1)).first()
    assert mismatch is not None and mismatch.counted[0] == mismatch.kept[0] + 1
    # The rebuild put it right.
    _kept_equals_rows()
    assert counts_rebuild(timezone.localdate() + datetime.timedelta(days=1))["mismatches"] == 0
