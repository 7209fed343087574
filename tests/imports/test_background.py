"""Large files are checked and imported by the worker, with progress, and the same checks."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from imports import services
from imports.models import ImportBatch, ImportLease
from memberships.models import FunctionType
from relations.models import Relation
from tenants.leases import reap
from tests.celery_support import celery_worker, celery_worker_process  # noqa: F401 (fixtures)

ROWS = 30


def _file() -> SimpleUploadedFile:
    lines = ["Voornaam;Achternaam;Geboortedatum;Afdeling"]
    lines += [f"Lid;Achter{n};01-01-1980;Afdeling 1.{1 + n % 2}" for n in range(ROWS)]
    return SimpleUploadedFile("groot.csv", "\r\n".join(lines).encode("cp1252"))


def _check_data(batch: ImportBatch) -> dict:
    return {"action": "check", "encoding": batch.encoding,
            "function_type": FunctionType.objects.get(code="department_member").pk,
            **{f"col_{k}": v for k, v in batch.mapping.items()}}


@pytest.mark.django_db
def test_it_queues_a_large_file_and_shows_progress(federation, login, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "BACKGROUND_ROWS", 10)
    client = login(federation.province_la)
    client.post(reverse("import_upload"), {"file": _file()})
    batch = ImportBatch.objects.get()

    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(reverse("import_detail", kwargs={"pk": batch.pk}), _check_data(batch))
    batch.refresh_from_db()
    assert batch.status == "queued" and len(queued) == 1
    page = client.get(reverse("import_detail", kwargs={"pk": batch.pk}), headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="import-status"' in page and "0 van 30 regels" in page

    # A second start while it waits is refused and queues nothing.
    with pytest.raises(services.ImportRefused):
        services.import_start(actor=federation.province_la, batch=batch, step="check")


@pytest.mark.django_db(transaction=True)
def test_it_checks_and_imports_through_a_real_worker(celery_worker, federation, login, monkeypatch):  # noqa: F811
    monkeypatch.setattr(services, "BACKGROUND_ROWS", 10)
    client = login(federation.province_la)
    client.post(reverse("import_upload"), {"file": _file()})
    batch = ImportBatch.objects.get()
    client.post(reverse("import_detail", kwargs={"pk": batch.pk}), _check_data(batch))

    def status_is(*wanted):
        def done() -> bool:
            batch.refresh_from_db()
            return batch.status in wanted
        return done

    celery_worker.wait_for(status_is("checked", "failed"), timeout=90)
    assert batch.status == "checked", batch.message
    assert batch.result["summary"]["new"] == ROWS

    client.post(reverse("import_run", kwargs={"pk": batch.pk}))
    celery_worker.wait_for(status_is("imported", "checked", "failed"), timeout=120)
    assert batch.status == "imported", batch.message
    assert Relation.objects.filter(last_name__startswith="Achter").count() == ROWS
    assert "imports.import_batch_run" in celery_worker.log()

    # Undone by the worker too: a large import outlasts a web request when taken back.
    client.post(reverse("import_undo", kwargs={"pk": batch.pk}))
    celery_worker.wait_for(status_is("undone", "imported", "failed"), timeout=120)
    assert batch.status == "undone", batch.message
    assert not Relation.objects.filter(last_name__startswith="Achter").exists()


@pytest.mark.django_db
def test_it_queues_a_large_undo_and_says_when_the_worker_refuses_it(
    federation, login, monkeypatch, django_capture_on_commit_callbacks
):
    client = login(federation.province_la)
    client.post(reverse("import_upload"), {"file": _file()})
    batch = ImportBatch.objects.get()
    client.post(reverse("import_detail", kwargs={"pk": batch.pk}), _check_data(batch))  # small: at once
    client.post(reverse("import_run", kwargs={"pk": batch.pk}))
    batch.refresh_from_db()
    assert batch.status == "imported", batch.message
    monkeypatch.setattr(services, "BACKGROUND_ROWS", 10)  # from here on a large file

    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(reverse("import_undo", kwargs={"pk": batch.pk}))
    batch.refresh_from_db()
    assert (batch.status, batch.options["undo_by"], len(queued)) == ("undoing", federation.province_la.pk, 1)
    page = client.get(reverse("import_detail", kwargs={"pk": batch.pk})).content.decode()
    assert "De import wordt ongedaan gemaakt." in page
    with pytest.raises(services.ImportRefused):  # not twice
        services.import_undo_start(actor=federation.province_la, batch=batch)

    # Meanwhile someone changes one of the cards: the worker refuses, the import stays.
    card = Relation.objects.filter(last_name="Achter3").get()
    Relation.objects.filter(pk=card.pk).update(city="Ede")
    batch = services.import_batch_run(str(batch.pk), "undo")
    assert batch.status == "imported" and str(card.number) in batch.message
    assert Relation.objects.filter(last_name__startswith="Achter").count() == ROWS
    page = client.get(reverse("import_detail", kwargs={"pk": batch.pk})).content.decode()
    assert 'data-testid="undo-refused"' in page



@pytest.mark.django_db
def test_a_second_delivery_does_not_undo_what_the_first_imported(federation, monkeypatch):
    """Two deliveries of one task (acks late): the second waits for the first's lock, then finds
    the file imported. It must leave it imported, not put it back to "checked"."""
    batch = ImportBatch.objects.create(
        tenant=federation.province1, user=federation.province_la, file="groot.csv", file_name="groot.csv",
        file_type="csv", status=ImportBatch.Status.IMPORTING,
    )

    def first_delivery_finished(**_kwargs):
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.IMPORTED)
        raise services.ImportRefused("Dit bestand is al geïmporteerd.")

    monkeypatch.setattr(services, "import_run", first_delivery_finished)
    batch = services.import_batch_run(str(batch.pk), "import")
    assert (batch.status, batch.message) == ("imported", "")


@pytest.mark.django_db
def test_a_check_delivered_again_after_its_worker_died_runs_again(federation, login, monkeypatch):
    monkeypatch.setattr(services, "BACKGROUND_ROWS", 10)
    client = login(federation.province_la)
    client.post(reverse("import_upload"), {"file": _file()})
    batch = ImportBatch.objects.get()
    services.import_mapping_set(actor=federation.province_la, batch=batch, mapping=batch.mapping,
                                options={"function_type": FunctionType.objects.get(code="department_member").pk})
    # The worker that took it died mid-way: the status says "being checked", nothing was kept.
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.CHECKING)

    batch = services.import_batch_run(str(batch.pk), "check")

    assert batch.status == "checked" and batch.result["summary"]["new"] == ROWS


# --- the lease: a second delivery steps aside, the reaper recovers a dead worker's step ----------


def _busy_batch(federation, status) -> ImportBatch:
    return ImportBatch.objects.create(
        tenant=federation.province1, user=federation.province_la, file="groot.csv", file_name="groot.csv",
        file_type="csv", status=status, rows_total=ROWS,
    )


@pytest.fixture
def requeued(monkeypatch):
    sent = []
    monkeypatch.setattr(services, "_queue", lambda task, *args: sent.append((task, *args)))
    return sent


@pytest.mark.django_db
def test_a_second_delivery_steps_aside_while_a_worker_holds_the_lease(federation, monkeypatch):
    batch = _busy_batch(federation, ImportBatch.Status.CHECKING)
    ImportLease.objects.create(batch=batch, step="check", lease_token="alive",
                               lease_until=timezone.now() + datetime.timedelta(seconds=60))
    monkeypatch.setattr(services, "import_check", lambda **_kwargs: pytest.fail("checked twice at once"))
    assert services.import_batch_run(str(batch.pk), "check").status == "checking"
    assert ImportLease.objects.get(pk=batch.pk).lease_token == "alive"


@pytest.mark.django_db
def test_the_reaper_queues_the_step_of_a_worker_that_died_once(federation, requeued):
    batch = _busy_batch(federation, ImportBatch.Status.IMPORTING)
    ImportLease.objects.create(batch=batch, step="import", lease_token="dead",
                               lease_until=timezone.now() - datetime.timedelta(seconds=1))
    alive = _busy_batch(federation, ImportBatch.Status.UNDOING)
    ImportLease.objects.create(batch=alive, step="undo", lease_token="alive",
                               lease_until=timezone.now() + datetime.timedelta(seconds=60))
    assert reap()["imports.batches"] == 1
    assert reap()["imports.batches"] == 0  # a second beat in the same minute finds it reserved
    assert requeued == [("import_batch_run_task", str(batch.pk), "import")]


@pytest.mark.django_db
def test_the_reaper_queues_a_step_whose_message_was_lost(
    federation, login, monkeypatch, requeued, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "BACKGROUND_ROWS", 10)
    client = login(federation.province_la)
    client.post(reverse("import_upload"), {"file": _file()})
    batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_detail", kwargs={"pk": batch.pk}), _check_data(batch))
    assert requeued == [("import_batch_run_task", str(batch.pk), "check")]  # queued, waiting
    assert reap()["imports.batches"] == 0  # just queued: not lost
    ImportLease.objects.filter(pk=batch.pk).update(queued_at=timezone.now() - datetime.timedelta(hours=1))
    assert reap()["imports.batches"] == 1
    assert requeued[-1] == ("import_batch_run_task", str(batch.pk), "check")

    # The step then runs, under the lease, and leaves it free; a finished batch is not reaped.
    batch = services.import_batch_run(str(batch.pk), "check")
    assert batch.status == "checked"
    lease = ImportLease.objects.get(pk=batch.pk)
    assert (lease.lease_token, lease.lease_until) == ("", None)
    ImportLease.objects.filter(pk=batch.pk).update(queued_at=timezone.now() - datetime.timedelta(hours=1))
    assert reap()["imports.batches"] == 0
