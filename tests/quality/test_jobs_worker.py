"""The nightly jobs through a real Celery worker on Redis (tests/celery_support.py): a job task
runs, a task delivered twice has one effect, and the worker knows every task beat sends."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.conf import settings
from django.utils import timezone

from quality import jobs
from quality.models import DataProblem, ErrorReportRecipient, JobRun, ReportDelivery
from tests.factories import make_relation

RUN_JOB = "quality.tasks.run_job"
DAY = datetime.date.today()


@pytest.fixture
def province1_with_problems(transactional_db, federation, settings):
    settings.ADDRESS_LOOKUP = "ledenbeheer.addresses.NoLookup"
    relations = [make_relation(federation.department11, last_name=f"Zonder Mail {n}", email="") for n in range(3)]
    ErrorReportRecipient.objects.create(tenant=federation.province1, email="leden@provincie1.example.org")
    ErrorReportRecipient.objects.create(tenant=federation.province1, email="uit@provincie1.example.org", active=False)
    DataProblem.objects.all().delete()
    return relations


def test_it_runs_the_checks_and_the_digest_through_the_worker(province1_with_problems, celery_worker):
    checks = celery_worker.call(RUN_JOB, "quality_checks", DAY.isoformat())
    assert checks == {"job": "quality_checks", "date": DAY.isoformat(), "ran": True, "status": "finished"}
    assert set(DataProblem.objects.filter(rule="missing_email").values_list("relation_id", flat=True)) == {
        r.pk for r in province1_with_problems
    }
    digest = celery_worker.call(RUN_JOB, "error_digest", DAY.isoformat())
    assert digest["ran"] is True
    (message,) = celery_worker.sent_mail()
    assert message["To"] == "leden@provincie1.example.org"
    body = message.get_body(("plain",)).get_content()
    for relation in province1_with_problems:
        assert f"http://testserver/relations/{relation.pk}/" in body
    assert JobRun.objects.filter(status=JobRun.Status.FINISHED).count() == 2


def test_it_has_one_effect_when_a_task_is_delivered_twice(province1_with_problems, celery_worker):
    celery_worker.call(RUN_JOB, "quality_checks", DAY.isoformat())
    problems = list(DataProblem.objects.order_by("pk").values_list("pk", "relation_id", "rule"))
    # The same message twice (a redelivery keeps its id), both on the queue before either runs:
    # the worker's two processes take them at the same time.
    task_id = str(uuid.uuid4())
    celery_worker.send(RUN_JOB, "error_digest", DAY.isoformat(), task_id=task_id)
    celery_worker.send(RUN_JOB, "error_digest", DAY.isoformat(), task_id=task_id)
    celery_worker.wait_for_log(f"[{task_id}] succeeded", count=2)
    assert len(celery_worker.sent_mail()) == 1
    assert ReportDelivery.objects.count() == 1
    assert JobRun.objects.filter(name="error_digest").count() == 1
    # And the checks, delivered again: no duplicate problems.
    again = celery_worker.call(RUN_JOB, "quality_checks", DAY.isoformat())
    assert again["ran"] is False
    assert list(DataProblem.objects.order_by("pk").values_list("pk", "relation_id", "rule")) == problems


def test_it_catches_up_through_the_worker(province1_with_problems, celery_worker):
    now = timezone.now()
    ran = celery_worker.call("quality.tasks.catch_up")
    schedule = jobs.scheduled_jobs()
    due = sorted((jobs.latest_due(schedule[name], now), name) for name in ("quality_checks", "error_digest"))
    expected = [f"{name} {moment.date().isoformat()}" for moment, name in due]
    assert [entry for entry in ran if entry.split()[0] in ("quality_checks", "error_digest")] == expected
    assert celery_worker.call("quality.tasks.catch_up") == []


def test_it_lets_the_worker_run_every_task_beat_sends(celery_worker):
    registered = celery_worker.app.control.inspect(destination=[celery_worker.name.replace("%h", _hostname())],
                                                   timeout=10).registered()
    assert registered, "the worker did not answer"
    (tasks,) = registered.values()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(tasks)


def _hostname() -> str:
    import socket

    return socket.gethostname()
