"""bench_import and bench_duplicates run end to end on a small federation (they measure nothing
here) and leave no import and no pairs behind."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from imports.models import DuplicateCandidate, ImportBatch
from relations.models import Relation

pytestmark = pytest.mark.django_db


def test_it_benchmarks_check_and_import_and_rolls_the_import_back():
    out = io.StringIO()

    call_command("bench_import", "--members", "60", "--rows", "40", "--allow-sqlite", stdout=out)

    report = out.getvalue()
    assert "check" in report and "import" in report and "20 created, 20 updated" in report, report
    assert Relation.objects.count() == 60
    assert not ImportBatch.objects.exists()


def test_it_benchmarks_the_duplicate_scan():
    out = io.StringIO()

    call_command("bench_duplicates", "--members", "60", "--allow-sqlite", stdout=out)

    assert "full scan with storing" in out.getvalue()
    assert not DuplicateCandidate.objects.exists()
