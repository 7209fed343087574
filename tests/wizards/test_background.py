"""Large downloads (SPEC W6): above WIZARD_EXPORT_SYNC_ROWS a Celery task writes the file with
progress; only the requester downloads it, until it expires; the permission is checked again
when the task runs. One test goes through a real worker on Redis."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from relations.models import ExportLog
from tenants.models import RoleAssignment
from tests.celery_support import celery_worker, celery_worker_process  # noqa: F401 (fixtures)
from tests.factories import make_relation
from wizards.models import ExportJob, Wizard
from wizards.services import export_files_remove_expired, export_job_run, export_storage

TODAY = datetime.date.today()


def _stored_exports() -> list[str]:
    """The files in the exports storage (none at all when nothing was ever written)."""
    try:
        return export_storage().listdir("")[1]
    except FileNotFoundError:
        return []


@pytest.fixture
def province_members(federation):
    numbers = {make_relation(federation.department11, last_name=f"Lid {i}").number for i in range(5)}
    make_relation(federation.department21, last_name="Ander")
    return numbers


def _csv_numbers(content: bytes) -> set[int]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    return {int(row[0]) for row in rows[1:]}


@pytest.mark.django_db
def test_it_exports_a_large_selection_in_the_background(
    federation, province_members, login, settings, django_capture_on_commit_callbacks
):
    settings.WIZARD_EXPORT_SYNC_ROWS = 2
    client = login(federation.province_sb)
    wizard = Wizard.objects.get(code="member_list")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("wizard_export", args=[wizard.pk, "csv"]), {"day": TODAY.isoformat()})
    job = ExportJob.objects.get()
    assert response.url == reverse("export_job_detail", args=[job.pk])
    assert job.status == ExportJob.Status.DONE and job.rows_done == 5 and job.percent == 100
    page = client.get(response.url)
    assert reverse("export_job_download", args=[job.pk]).encode() in page.content
    download = client.get(reverse("export_job_download", args=[job.pk]))
    assert _csv_numbers(b"".join(download.streaming_content)) == province_members
    assert ExportLog.objects.get().rows == 5
    # Nobody else gets it, not even the national system administrator.
    for other in ("national_sb", "province_la"):
        assert login(federation.users[other]).get(reverse("export_job_download", args=[job.pk])).status_code == 404
    # Once expired it is gone, and the hourly clean-up removes the file.
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert login(federation.province_sb).get(reverse("export_job_download", args=[job.pk])).status_code == 410
    assert export_files_remove_expired() == 1
    assert not _stored_exports()


@pytest.mark.django_db
def test_it_writes_xlsx_in_the_background_and_shows_progress_while_busy(federation, province_members, login, settings):
    from openpyxl import load_workbook

    settings.WIZARD_EXPORT_SYNC_ROWS = 2
    client = login(federation.province_sb)
    wizard = Wizard.objects.get(code="member_list")
    client.post(reverse("wizard_export", args=[wizard.pk, "xlsx"]), {"day": TODAY.isoformat()})
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.PENDING  # queued on commit, which a test never reaches
    page = client.get(reverse("export_job_detail", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert b'hx-trigger="every 2s"' in page.content and b"progressbar" in page.content
    export_job_run(str(job.pk))
    export_job_run(str(job.pk))  # a second delivery of the task changes nothing
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    workbook = load_workbook(export_storage().open(job.file_name), read_only=True)
    numbers = {int(row[0]) for row in list(workbook.active.iter_rows(values_only=True))[1:]}
    assert numbers == province_members
    assert ExportLog.objects.count() == 1


@pytest.mark.django_db
def test_it_checks_the_permission_again_when_the_task_runs(federation, province_members, login, settings):
    settings.WIZARD_EXPORT_SYNC_ROWS = 2
    client = login(federation.province_sb)
    wizard = Wizard.objects.get(code="member_list")
    client.post(reverse("wizard_export", args=[wizard.pk, "csv"]), {"day": TODAY.isoformat()})
    job = ExportJob.objects.get()
    RoleAssignment.objects.filter(user=federation.province_sb).update(end_date=TODAY - datetime.timedelta(days=1))
    export_job_run(str(job.pk))
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert not job.file_name and not ExportLog.objects.exists()
    assert not _stored_exports()


@pytest.mark.django_db
def test_it_gives_unknown_export_ids_a_404(federation, login):
    client = login(federation.province_sb)
    assert client.get("/wizards/exports/not-a-uuid/").status_code == 404


def test_it_exports_through_a_real_worker(celery_worker, federation, province_members, login, settings):  # noqa: F811
    settings.WIZARD_EXPORT_SYNC_ROWS = 2
    client = login(federation.province_sb)
    wizard = Wizard.objects.get(code="member_list")
    response = client.post(reverse("wizard_export", args=[wizard.pk, "csv"]), {"day": TODAY.isoformat()})
    job = ExportJob.objects.get()
    assert response.url == reverse("export_job_detail", args=[job.pk])

    def finished() -> bool:
        job.refresh_from_db()
        return job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED)

    celery_worker.wait_for(finished, timeout=60)
    assert job.status == ExportJob.Status.DONE, job.message
    assert "wizards.export_job_run" in celery_worker.log()
    download = client.get(reverse("export_job_download", args=[job.pk]))
    assert _csv_numbers(b"".join(download.streaming_content)) == province_members


@pytest.mark.django_db
def test_it_marks_a_job_failed_when_the_file_cannot_be_made(federation, province_members, login, settings, monkeypatch):
    from relations import exports

    settings.WIZARD_EXPORT_SYNC_ROWS = 2
    login(federation.province_sb).post(reverse("wizard_export", args=[Wizard.objects.get(code="member_list").pk, "csv"]),
                                       {"day": TODAY.isoformat()})
    job = ExportJob.objects.get()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exports, "csv_write", broken)
    with pytest.raises(OSError):
        export_job_run(str(job.pk))
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and job.message
    assert not _stored_exports()
