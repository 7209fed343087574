"""The nightly and yearly jobs: run records, the morning digest, the yearly lists, catching up,
the command and the beat schedule."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from ledenbeheer.celery import app
from quality import jobs
from quality import services as quality
from quality.models import DataProblem, ErrorReportRecipient, JobRun, ReportDelivery
from relations.services import relation_update
from tenants.leases import reap
from tests.factories import make_relation

from .quality_world import TODAY, build_world

pytestmark = pytest.mark.django_db

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")


def _at(year, month, day, hour, minute=0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


@pytest.fixture
def world(federation):
    world = build_world(federation)
    ErrorReportRecipient.objects.create(tenant=federation.province1, email="leden@provincie1.example.org")
    ErrorReportRecipient.objects.create(tenant=federation.province1, email="oud@provincie1.example.org", active=False)
    ErrorReportRecipient.objects.create(tenant=federation.province2, email="uit@provincie2.example.org", active=False)
    return world


# --- run records ---------------------------------------------------------------------------------


def test_it_does_nothing_the_second_time_a_job_runs_for_a_date(world):
    run, did = jobs.job_run("quality_checks", TODAY)
    assert did and run.status == JobRun.Status.FINISHED and run.finished_at
    # Saving the cards already opened some problems; the run confirmed those and opened the rest.
    open_now = DataProblem.objects.filter(closed_on__isnull=True).count()
    assert run.counts["opened"] + run.counts["still_open"] == open_now > 0
    problems = list(DataProblem.objects.values_list("pk", "last_seen"))
    again, did_again = jobs.job_run("quality_checks", TODAY)
    assert not did_again and again.pk == run.pk
    assert list(DataProblem.objects.values_list("pk", "last_seen")) == problems
    assert JobRun.objects.count() == 1


def test_it_sends_the_digest_once_however_often_it_runs(world):
    jobs.job_run("quality_checks", TODAY)
    jobs.job_run("error_digest", TODAY)
    jobs.job_run("error_digest", TODAY)
    assert len(mail.outbox) == 1
    # Even with the run record gone (a crash after sending), the delivery row holds.
    JobRun.objects.filter(name="error_digest").delete()
    jobs.job_run("error_digest", TODAY)
    assert len(mail.outbox) == 1
    assert ReportDelivery.objects.count() == 1


def test_it_runs_a_failed_job_again_and_counts_the_attempt(world, monkeypatch):
    def failing(day):
        raise RuntimeError("mail server away")

    monkeypatch.setitem(jobs.JOBS, "error_digest", jobs.Job("error_digest", failing, jobs.DAY))
    with pytest.raises(RuntimeError):
        jobs.job_run("error_digest", TODAY)
    run = JobRun.objects.get(name="error_digest")
    assert run.status == JobRun.Status.FAILED and "mail server away" in run.errors[0]["error"]
    monkeypatch.undo()
    run, did = jobs.job_run("error_digest", TODAY)
    assert did and run.status == JobRun.Status.FINISHED and run.attempts == 2


def _running(name: str, *, lease_seconds: int) -> JobRun:
    """A run another worker holds (lease in the future) or left behind (lease in the past)."""
    return JobRun.objects.create(
        name=name, run_date=TODAY, lease_token="someone-else",
        lease_until=timezone.now() + datetime.timedelta(seconds=lease_seconds),
    )


def test_it_leaves_a_job_another_delivery_is_running_alone(world):
    _running("error_digest", lease_seconds=60)
    run, did = jobs.job_run("error_digest", TODAY)
    assert not did and run.status == JobRun.Status.RUNNING
    assert not mail.outbox


def test_it_takes_over_a_run_whose_worker_died(world):
    _running("error_digest", lease_seconds=-1)
    run, did = jobs.job_run("error_digest", TODAY)
    assert did and run.status == JobRun.Status.FINISHED and run.attempts == 2
    assert run.lease_token == "" and run.lease_until is None
    assert len(mail.outbox) == 1


def test_it_sends_a_digest_left_sending_again_with_the_same_message_id(world, federation):
    """A worker died between committing the delivery row and marking it sent: the retry sends
    that one mail again, recognisably the same, and no other."""
    jobs.job_run("quality_checks", TODAY)
    ReportDelivery.objects.create(
        job="error_digest", tenant=federation.province1, run_date=TODAY, recipients="leden@provincie1.example.org",
        status=ReportDelivery.Status.SENDING, message_id="<fixed@ledenbeheer>",
    )
    _running("error_digest", lease_seconds=-1)
    jobs.job_run("error_digest", TODAY)
    (message,) = mail.outbox
    assert message.extra_headers["Message-ID"] == "<fixed@ledenbeheer>"
    delivery = ReportDelivery.objects.get()
    assert delivery.status == ReportDelivery.Status.SENT


def test_the_reaper_queues_a_stale_run_again_once(world, monkeypatch):
    sent = []
    monkeypatch.setattr("quality.tasks.run_job.delay", lambda *args: sent.append(args))
    _running("quality_checks", lease_seconds=-1)
    JobRun.objects.create(name="error_digest", run_date=TODAY, lease_token="alive",
                          lease_until=timezone.now() + datetime.timedelta(seconds=60))
    assert reap()["quality.runs"] == 1
    # A second reaper in the same minute (a second beat) finds it reserved.
    assert reap()["quality.runs"] == 0
    assert sent == [("quality_checks", TODAY.isoformat())]


# --- the digest ----------------------------------------------------------------------------------


def test_it_mails_each_environment_its_open_problems_with_links_to_the_cards(world, federation):
    jobs.job_run("quality_checks", TODAY)
    jobs.job_run("error_digest", TODAY)
    (message,) = mail.outbox
    assert message.to == ["leden@provincie1.example.org"]
    assert "Provincie 1" in message.subject
    body = message.body
    html = message.alternatives[0][0]
    province1 = federation.province1.subtree_filter("relation__tenant")
    open_here = DataProblem.objects.filter(province1, closed_on__isnull=True)
    assert open_here.exists()
    for problem in open_here.select_related("relation"):
        url = f"http://testserver/relations/{problem.relation_id}/"
        assert url in body and f'href="{url}"' in html
        assert str(quality.RULES_BY_CODE[problem.rule].description) in body
    for problem in DataProblem.objects.exclude(province1):
        assert f"/relations/{problem.relation_id}/" not in body
    assert "http://testserver/quality/problems/" in body


def test_it_lists_only_problems_first_seen_since_the_last_digest_as_new(world, federation):
    yesterday = TODAY - datetime.timedelta(days=1)
    quality.checks_run(yesterday)
    DataProblem.objects.update(first_seen=yesterday)
    jobs.error_digest(yesterday)
    relation_update(actor=federation.province_la, relation=world["complete"], data={"email": ""})
    quality.checks_run(TODAY)
    mail.outbox.clear()
    jobs.error_digest(TODAY)
    (message,) = mail.outbox
    new_part, still_part = message.body.split("Nog open")
    assert f"/relations/{world['complete'].pk}/" in new_part
    assert f"/relations/{world['no_email'].pk}/" in still_part
    assert f"/relations/{world['no_email'].pk}/" not in new_part


def test_it_sends_nothing_when_nothing_is_open(world, federation):
    ErrorReportRecipient.objects.create(tenant=federation.department22, email="a22@example.org")
    jobs.job_run("quality_checks", TODAY)
    jobs.job_run("error_digest", TODAY)
    assert [m.to for m in mail.outbox] == [["leden@provincie1.example.org"]]
    DataProblem.objects.update(closed_on=TODAY, closed_by="check")
    mail.outbox.clear()
    jobs.error_digest(TODAY + datetime.timedelta(days=1))
    assert not mail.outbox


def test_it_sends_nothing_to_inactive_recipients(world, federation):
    jobs.job_run("quality_checks", TODAY)
    jobs.job_run("error_digest", TODAY)
    addresses = {address for message in mail.outbox for address in message.to + message.cc + message.bcc}
    assert addresses == {"leden@provincie1.example.org"}
    assert not ReportDelivery.objects.filter(tenant=federation.province2).exists()


def test_it_limits_a_digest_and_points_to_the_error_list_for_the_rest(world, monkeypatch):
    monkeypatch.setattr(jobs, "DIGEST_LIMIT", 2)
    jobs.job_run("quality_checks", TODAY)
    jobs.job_run("error_digest", TODAY)
    (message,) = mail.outbox
    assert message.body.count("http://testserver/relations/") == 2
    assert "fouten staan op de foutenlijst" in message.body


# --- yearly lists ---------------------------------------------------------------------------------


def test_it_sends_each_province_its_member_administrators_in_january(world, federation):
    # The roles of the test federation started a month ago: the list of today.
    jobs.job_run("administrators_list", TODAY)
    (message,) = mail.outbox
    assert message.to == ["leden@provincie1.example.org"]
    for user in (federation.province_sb, federation.province_la, federation.department_la):
        assert user.email in message.body
    assert federation.province2_sb.email not in message.body
    assert federation.national_sb.email not in message.body


def test_it_sends_each_province_its_aspirant_members_in_december(world, federation):
    jobs.job_run("aspirants_list", TODAY)
    (message,) = mail.outbox
    for key in ("aspirant_old", "aspirant_new"):
        assert f"http://testserver/relations/{world[key].pk}/" in message.body
    assert f"/relations/{world['complete'].pk}/" not in message.body


# --- schedule, catching up, the command ----------------------------------------------------------


def test_it_schedules_the_jobs_at_their_times_in_amsterdam():
    assert settings.CELERY_TIMEZONE == "Europe/Amsterdam"
    schedule = {
        (entry["task"], tuple(entry.get("args", ()))): entry["schedule"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    run_job = "quality.tasks.run_job"
    assert schedule == {
        (run_job, ("quality_checks",)): crontab(minute=0, hour=5),
        (run_job, ("error_digest",)): crontab(minute=0, hour=6),
        (run_job, ("administrators_list",)): crontab(minute=0, hour=7, day_of_month=2, month_of_year=1),
        (run_job, ("aspirants_list",)): crontab(minute=0, hour=7, day_of_month=1, month_of_year=12),
        (run_job, ("retention",)): crontab(minute=0, hour=4),
        ("quality.tasks.catch_up", ()): crontab(minute=30),
        # Expired background downloads of the selection wizards are removed every hour.
        ("wizards.export_files_remove_expired", ()): 3600.0,
        # The nightly duplicate scan (issue 14).
        ("imports.duplicate_scan_nightly", ()): crontab(minute=0, hour=3),
        # Billing: reminders every morning.
        ("billing.send_reminders", ()): crontab(minute=0, hour=8),
        # Work whose lease ran out (its worker died), invoice PDFs too, is queued again every minute.
        ("tenants.reap_expired_leases", ()): 60.0,
        # The dashboard's counts, rebuilt and checked (issue 17), through the same run records.
        (run_job, ("membership_counts",)): crontab(minute=15, hour=0),
        # The API's audit of token uses is pruned (API_TOKEN_USE_DAYS).
        (run_job, ("api_token_uses",)): crontab(minute=45, hour=3),
    }
    assert set(jobs.scheduled_jobs()) == set(jobs.all_jobs())
    app.loader.import_default_modules()
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= set(app.tasks)


def test_it_knows_when_each_job_was_last_due():
    jobs_schedule = jobs.scheduled_jobs()
    now = _at(2026, 11, 23, 5, 30)
    assert jobs.latest_due(jobs_schedule["quality_checks"], now) == _at(2026, 11, 23, 5)
    assert jobs.latest_due(jobs_schedule["error_digest"], now) == _at(2026, 11, 22, 6)
    assert jobs.latest_due(jobs_schedule["administrators_list"], now) == _at(2026, 1, 2, 7)
    assert jobs.latest_due(jobs_schedule["aspirants_list"], now) == _at(2025, 12, 1, 7)
    # Across the change to winter time the local hour stays 05:00.
    assert jobs.latest_due(jobs_schedule["quality_checks"], _at(2026, 10, 25, 6)) == _at(2026, 10, 25, 5)


def test_it_catches_up_a_missed_night_in_order_and_only_once(world):
    ran = jobs.catch_up(_at(2026, 11, 23, 9, 15))
    assert ran == [
        "membership_counts 2026-11-23", "api_token_uses 2026-11-23", "retention 2026-11-23",
        "quality_checks 2026-11-23", "error_digest 2026-11-23",
    ]
    assert JobRun.objects.filter(status=JobRun.Status.FINISHED).count() == 5
    assert len(mail.outbox) == 1
    assert jobs.catch_up(_at(2026, 11, 23, 10, 30)) == []


def test_it_catches_up_the_december_list_within_the_month_but_not_later(world):
    assert "aspirants_list 2026-12-01" in jobs.catch_up(_at(2026, 12, 3, 8))
    assert "administrators_list 2027-01-02" in jobs.catch_up(_at(2027, 1, 20, 8))
    assert not [r for r in jobs.catch_up(_at(2027, 3, 1, 8)) if r.startswith(("administrators", "aspirants"))]


def test_it_runs_a_job_by_hand_with_the_command(world, capsys):
    call_command("run_job", "quality_checks", "--date", TODAY.isoformat())
    out = capsys.readouterr().out
    assert f"quality_checks {TODAY}" in out and "geopend" in out
    call_command("run_job", "quality_checks", "--date", TODAY.isoformat())
    assert "is al klaar; niets gedaan" in capsys.readouterr().out
    assert JobRun.objects.filter(name="quality_checks").count() == 1


def test_the_command_says_whether_a_run_is_live_or_stale_and_carries_on_a_stale_one(world, capsys):
    run = _running("error_digest", lease_seconds=60)
    call_command("run_job", "error_digest", "--date", TODAY.isoformat())
    assert "loopt nu" in capsys.readouterr().out
    JobRun.objects.filter(pk=run.pk).update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
    call_command("run_job", "error_digest", "--date", TODAY.isoformat())
    out = capsys.readouterr().out
    assert "bleef als lopend staan" in out and "klaar" in out
    assert "already" not in out
    assert JobRun.objects.get(pk=run.pk).status == JobRun.Status.FINISHED


def test_it_refuses_a_malformed_date_in_the_command(db):
    with pytest.raises(CommandError, match="2026-11-23"):
        call_command("run_job", "quality_checks", "--date", "23-11-2026")


def test_it_catches_up_with_the_command(world, capsys):
    call_command("run_job", "catch_up")
    assert "Ingehaald:" in capsys.readouterr().out


def test_it_does_not_mail_a_relation_outside_the_environment_of_the_recipients(federation):
    inside = make_relation(federation.department11, last_name="Binnen", email="")
    outside = make_relation(federation.department21, last_name="Buiten", email="")
    ErrorReportRecipient.objects.create(tenant=federation.department11, email="a11@example.org")
    quality.checks_run(TODAY)
    jobs.error_digest(TODAY)
    (message,) = mail.outbox
    assert f"/relations/{inside.pk}/" in message.body
    assert f"/relations/{outside.pk}/" not in message.body


def test_it_sends_a_catch_up_when_beat_starts(monkeypatch):
    from ledenbeheer import celery as celery_module

    sent = []
    monkeypatch.setattr(celery_module.app, "send_task", lambda name, *args, **kwargs: sent.append(name))
    celery_module.catch_up_at_start(sender=None)
    assert sent == ["quality.tasks.catch_up"]
