"""Background work survives a crash (issue 13, docs/jobs.md "Leases and the reaper"): a real
worker on Redis is killed with SIGKILL — its whole process group — at two points of a large
export, of a batch of 40 mails with PDFs and of the nightly quality check; a fresh worker and the
reaper (sent every two seconds here, as beat does every minute) finish the work within two
minutes, once in effect. Leases are 3 s and the visibility timeout 20 s for these tests.

Each point is reached deterministically: the test holds a PostgreSQL lock the worker needs next
(and waits until the worker waits for it), or the SMTP sink holds the conversation. The figures
(recovery time, deliveries) are printed for the record."""

from __future__ import annotations

import csv
import datetime
import io
import time
import uuid
from contextlib import contextmanager

import psycopg
import pytest
from django.urls import reverse

from demo.relations import populate
from imports import services as imports
from imports.models import ImportBatch, ImportLease
from memberships.models import Function
from notifications.models import DocumentJob, OutboundMail
from notifications.services import document_job_create
from quality import services as quality
from quality.models import DataProblem, ErrorReportRecipient, JobRun, ReportDelivery
from relations.models import CustomField, ExportLog, Relation
from tests.celery_support import _database_url, killable_workers  # noqa: F401 (fixture)
from tests.factories import make_mail_template, make_relation
from tests.imports.test_background import ROWS, _check_data, _file
from tests.quality.quality_world import build_world
from wizards.models import ExportJob, Wizard
from wizards.services import export_storage

from .smtp_sink import SmtpSink

DAY = datetime.date.today()
RECOVERY_LIMIT = 120
REAPER = "tenants.reap_expired_leases"


def _env(sink: SmtpSink | None = None) -> dict[str, str]:
    env = {"JOB_LEASE_SECONDS": "3", "JOB_REQUEUE_QUEUED_AFTER": "10", "CELERY_VISIBILITY_TIMEOUT": "20"}
    if sink is not None:
        env.update(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                   EMAIL_PORT=str(sink.port), EMAIL_USE_TLS="0")
    return env


@contextmanager
def db_lock(sql: str, *params):
    """Hold a lock in a connection of its own until the block ends."""
    with psycopg.connect(_database_url()) as connection:
        connection.execute(sql, params)
        try:
            yield connection
        finally:
            connection.rollback()


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting for {what}")
        time.sleep(0.05)


def _waiting_for_lock(connection, table: str) -> bool:
    return connection.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE NOT l.granted AND c.relname = %s", (table,)
    ).fetchone()[0] > 0


def _waiting_for_row_lock(connection) -> bool:
    # A transaction waiting for a row lock waits on the holder's transaction id.
    return connection.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'")\
        .fetchone()[0] > 0


def _recover(workers, done, *, env: dict) -> float:
    """Start a fresh worker and play beat (the reaper every 2 s) until `done()`; returns the
    seconds from the kill to done."""
    started = time.monotonic()
    worker = workers.start(env)
    _recover.ready_after = time.monotonic() - started
    while not done():
        if time.monotonic() - started > RECOVERY_LIMIT:
            pytest.fail(f"Not recovered within {RECOVERY_LIMIT} s. Worker log:\n{worker.log()[-4000:]}")
        worker.app.send_task(REAPER, queue=worker.queue)
        time.sleep(2)
    return time.monotonic() - started


def _report(capsys, text: str) -> None:
    with capsys.disabled():
        print(f"\n[kill test] {text}")


# --- a large export -------------------------------------------------------------------------------


@pytest.mark.parametrize("point", ["mid_file", "before_log"])
def test_a_large_export_killed_mid_way_makes_one_file_and_one_log_row(point, killable_workers, federation,  # noqa: F811
                                                                      login, settings, capsys):
    populate(12000, national=federation.national)
    settings.WIZARD_EXPORT_SYNC_ROWS = 10
    env = _env()
    worker = killable_workers.start(env)
    client = login(federation.national_sb)
    wizard = Wizard.objects.get(code="member_list")
    with db_lock(f"LOCK TABLE {ExportLog._meta.db_table} IN EXCLUSIVE MODE") as log_lock:
        client.post(reverse("wizard_export", args=[wizard.pk, "csv"]), {"day": DAY.isoformat()})
        job = ExportJob.objects.get()
        if point == "mid_file":
            # Once the first 2,000 rows are written, hold its row: the next progress report waits.
            _wait(lambda: ExportJob.objects.filter(pk=job.pk, rows_done__gte=2000).exists(), 60, "the first chunk")
            row_sql = f"SELECT 1 FROM {ExportJob._meta.db_table} WHERE id = %s FOR UPDATE"  # noqa: S608 (our table)
            with db_lock(row_sql, job.pk) as row_lock:
                _wait(lambda: _waiting_for_row_lock(row_lock), 60, "the worker to wait for its row")
                killable_workers.kill(worker)
        else:
            # The file is written; the worker waits to write the export log.
            _wait(lambda: _waiting_for_lock(log_lock, ExportLog._meta.db_table), 60, "the worker to wait for the log")
            killable_workers.kill(worker)
    job.refresh_from_db()
    killed_at = (job.status, job.rows_done)
    assert job.status == ExportJob.Status.RUNNING and not ExportLog.objects.exists()
    assert point != "mid_file" or 0 < job.rows_done < job.rows_total

    def done() -> bool:
        job.refresh_from_db()
        return job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED)

    seconds = _recover(killable_workers, done, env=env)
    assert job.status == ExportJob.Status.DONE, job.message
    storage = export_storage()
    assert storage.listdir("")[1] == [f"{job.pk}.csv"]
    with storage.open(job.file_name, "rb") as file:
        rows = list(csv.reader(io.StringIO(file.read().decode("utf-8-sig"), newline=""), delimiter=";"))
    total = job.rows_done
    assert total > 8000 and len(rows) == total + 1 and len({row[0] for row in rows[1:]}) == total
    assert ExportLog.objects.count() == 1 and ExportLog.objects.get().rows == total
    assert JobRun.objects.count() == 0
    _report(capsys, f"export {total} rows, killed {point} at {killed_at[1]} rows: done {seconds:.1f} s after "
                    f"the kill (fresh worker ready after {_recover.ready_after:.1f} s); 1 file, {ExportLog.objects.count()} export-log row")
    assert seconds < RECOVERY_LIMIT


# --- a batch of 40 mails with PDFs ----------------------------------------------------------------


@pytest.mark.parametrize(("point", "nth"), [("mail", 10), ("data", 15)])
def test_a_batch_of_mails_killed_mid_way_sends_each_mail_once(point, nth, killable_workers, federation,  # noqa: F811
                                                             capsys):
    relations = [make_relation(federation.department11, last_name=f"Lid {i}", email=f"lid{i}@example.org")
                 for i in range(40)]
    template = make_mail_template(federation.national)
    with SmtpSink() as sink:
        env = _env(sink)
        worker = killable_workers.start(env)
        sink.hold(point, nth)
        job = document_job_create(actor=federation.province_sb, tenant=federation.province1, template=template,
                                  relations=relations, action=DocumentJob.Action.SEND, by_email=True)
        sink.wait_holding(timeout=180)
        killable_workers.kill(worker)
        at_kill = sink.deliveries
        job.refresh_from_db()
        made_at_kill = job.done
        sink.release.set()

        def done() -> bool:
            job.refresh_from_db()
            return (job.status == DocumentJob.Status.DONE
                    and OutboundMail.objects.filter(status=OutboundMail.Status.SENT).count() == 40)

        seconds = _recover(killable_workers, done, env=env)
        time.sleep(2)  # a stray second send would arrive now
        deliveries, duplicates = sink.deliveries, sink.duplicates()
    assert OutboundMail.objects.count() == 40 and job.mailed == 40
    assert len(set(sink.message_ids)) == 40
    if point == "mail":  # killed before the message went on the wire
        assert deliveries == 40 and not duplicates
    else:  # killed with the message on the wire: that one mail, and only that one, may come twice
        assert 40 <= deliveries <= 41 and sum(duplicates.values()) <= 2
    _report(capsys, f"40 mails with PDFs, killed at {point} of mail {nth} ({made_at_kill} documents made, "
                    f"{at_kill} received): done {seconds:.1f} s after the kill (fresh worker ready after "
                    f"{_recover.ready_after:.1f} s); {deliveries} deliveries for 40 rows")
    assert seconds < RECOVERY_LIMIT


# --- the nightly quality check ----------------------------------------------------------------------


@pytest.mark.parametrize(("point", "table", "mode"), [
    ("first rule", DataProblem._meta.db_table, "EXCLUSIVE"),
    # Only the last rule reads the custom fields: killed there, nine rules are done.
    ("last rule", CustomField._meta.db_table, "ACCESS EXCLUSIVE"),
])
def test_the_nightly_check_killed_mid_way_finishes_with_one_run_record(point, table, mode, killable_workers,  # noqa: F811
                                                                       federation, capsys):
    build_world(federation)
    env = _env()
    worker = killable_workers.start(env)
    with db_lock(f"LOCK TABLE {table} IN {mode} MODE") as lock:
        worker.send("quality.tasks.run_job", "quality_checks", DAY.isoformat())
        _wait(lambda: _waiting_for_lock(lock, table), 60, f"the worker to wait for {table}")
        killable_workers.kill(worker)
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.RUNNING

    def done() -> bool:
        run.refresh_from_db()
        return run.status in (JobRun.Status.FINISHED, JobRun.Status.FAILED)

    seconds = _recover(killable_workers, done, env=env)
    assert run.status == JobRun.Status.FINISHED and run.attempts == 2
    assert JobRun.objects.count() == 1
    # The problems are exactly what a clean run leaves: running the check again changes nothing.
    again = quality.checks_run(DAY)
    assert (again["opened"], again["closed"]) == (0, 0) and again["still_open"] == run.counts["opened"] + run.counts[
        "still_open"]
    _report(capsys, f"nightly check killed at the {point}: finished {seconds:.1f} s after the kill "
                    f"(fresh worker ready after {_recover.ready_after:.1f} s); "
                    f"{JobRun.objects.count()} run record, attempt {run.attempts}")
    assert seconds < RECOVERY_LIMIT


# --- a second beat ------------------------------------------------------------------------------------


def test_a_second_beat_does_not_send_the_digest_twice(killable_workers, federation, capsys):  # noqa: F811
    """Two beats send the same scheduled job (two messages, two task ids) and the reaper at the
    same moment; the worker's two processes take them at once. One run, one mail per delivery row."""
    build_world(federation)
    ErrorReportRecipient.objects.create(tenant=federation.province1, email="leden@provincie1.example.org")
    ErrorReportRecipient.objects.create(tenant=federation.province2, email="leden@provincie2.example.org")
    quality.checks_run(DAY)
    with SmtpSink() as sink:
        worker = killable_workers.start(_env(sink))
        ids = [str(uuid.uuid4()) for _ in range(2)]
        for task_id in ids:  # beat 1 and beat 2
            worker.send("quality.tasks.run_job", "error_digest", DAY.isoformat(), task_id=task_id)
            worker.send(REAPER)
        for task_id in ids:
            worker.wait_for_log(f"[{task_id}] succeeded", timeout=60)
        time.sleep(1)
        deliveries = sink.deliveries
    rows = ReportDelivery.objects.filter(status=ReportDelivery.Status.SENT).count()
    assert rows >= 1 and deliveries == rows == ReportDelivery.objects.count()
    assert JobRun.objects.get(name="error_digest").status == JobRun.Status.FINISHED
    _report(capsys, f"two beats: {deliveries} digest mails for {rows} delivery rows")


# --- a large import ---------------------------------------------------------------------------------


def test_an_import_killed_mid_way_lands_once(killable_workers, federation, login, monkeypatch, capsys):  # noqa: F811
    """The worker is killed inside the import's transaction (waiting to write the memberships):
    nothing of it stays, and the reaper has the import run again, once."""
    monkeypatch.setattr(imports, "BACKGROUND_ROWS", 10)  # this process decides: the worker does it
    env = _env()
    worker = killable_workers.start(env)
    client = login(federation.province_la)
    client.post(reverse("import_upload"), {"file": _file()})
    batch = ImportBatch.objects.get()
    client.post(reverse("import_detail", kwargs={"pk": batch.pk}), _check_data(batch))
    _wait(lambda: ImportBatch.objects.filter(pk=batch.pk, status="checked").exists(), 90, "the check")
    table = Function._meta.db_table
    with db_lock(f"LOCK TABLE {table} IN EXCLUSIVE MODE") as lock:
        client.post(reverse("import_run", kwargs={"pk": batch.pk}))
        _wait(lambda: _waiting_for_lock(lock, table), 60, "the worker to wait for the memberships")
        killable_workers.kill(worker)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTING
    assert not Relation.objects.filter(last_name__startswith="Achter").exists()  # rolled back whole
    assert ImportLease.objects.get(pk=batch.pk).lease_token  # held by the dead worker

    def done() -> bool:
        batch.refresh_from_db()
        return batch.status in (ImportBatch.Status.IMPORTED, ImportBatch.Status.CHECKED, ImportBatch.Status.FAILED)

    seconds = _recover(killable_workers, done, env=env)
    assert batch.status == ImportBatch.Status.IMPORTED, batch.message
    assert Relation.objects.filter(last_name__startswith="Achter").count() == ROWS == batch.created_count
    assert Function.objects.filter(relation__last_name__startswith="Achter").count() == ROWS
    _report(capsys, f"import of {ROWS} rows killed in its transaction: imported {seconds:.1f} s after the kill "
                    f"(fresh worker ready after {_recover.ready_after:.1f} s), once")
    assert seconds < RECOVERY_LIMIT
