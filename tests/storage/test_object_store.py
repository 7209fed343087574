"""Files in S3-compatible object storage (STORAGE_URL), against a real SeaweedFS server: background
exports, logos, letters; never public, handed out only after the app's permission check; a file
that vanished from the store is said so, with an offer to make it again."""

from __future__ import annotations

import datetime
import io
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from ledenbeheer.storage import s3_options, storages_setting
from notifications.rendering import DOCUMENT_BASE_URL, OwnFilesFetcher
from tests.factories import make_relation
from wizards.models import ExportJob, Wizard
from wizards.services import export_files_remove_expired, export_job_run, export_storage

TODAY = datetime.date.today()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "green").save(buffer, format="PNG")
    return buffer.getvalue()


# --- STORAGE_URL ---------------------------------------------------------------------------------


def test_it_reads_the_object_store_from_storage_url():
    options = s3_options("s3+http://key:se%2Fcr%2Bet@store.internal:8333/media/leden?region=eu-west-1")
    assert options["endpoint_url"] == "http://store.internal:8333"
    assert (options["access_key"], options["secret_key"]) == ("key", "se/cr+et")
    assert (options["bucket_name"], options["location"], options["region_name"]) == ("media", "leden", "eu-west-1")
    assert options["default_acl"] is None and options["querystring_expire"] == 300
    assert s3_options("s3://s3.example.org/bucket")["endpoint_url"] == "https://s3.example.org"
    assert s3_options("s3://s3.example.org/bucket")["access_key"] is None  # boto3 finds them itself
    exports = storages_setting("s3://h/bucket/leden", export_root=None, staticfiles_backend="x")["exports"]
    assert exports["OPTIONS"]["location"] == "leden/exports"


@pytest.mark.parametrize(
    "url", ["s3://host", "s3://host/", "https://host/bucket", "s3:///bucket"], ids=["no-bucket", "slash", "scheme", "host"]
)
def test_it_stops_on_a_storage_url_it_cannot_read(url):
    with pytest.raises(ImproperlyConfigured, match="STORAGE_URL"):
        s3_options(url)


def _settings_storages(env: dict) -> str:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.STORAGES['default']['BACKEND'], settings.STORAGES['exports']['BACKEND'])"
    )
    return subprocess.run(  # noqa: S603 (our own interpreter and a fixed program)
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"DJANGO_SETTINGS_MODULE": "ledenbeheer.settings", "PATH": "/usr/bin:/bin", **env},
    ).stdout.split()


def test_it_keeps_files_on_local_disk_without_storage_url_as_the_demo_does():
    assert _settings_storages({}) == [
        "django.core.files.storage.FileSystemStorage", "ledenbeheer.storage.ExportFileStorage",
    ]
    assert _settings_storages({"STORAGE_URL": "s3+http://k:s@127.0.0.1:1/bucket"}) == [
        "storages.backends.s3.S3Storage", "storages.backends.s3.S3Storage",
    ]


# --- background exports in the object store -----------------------------------------------------


@pytest.fixture
def province_members(federation):
    numbers = {make_relation(federation.department11, last_name=f"Lid {i}").number for i in range(5)}
    make_relation(federation.department21, last_name="Ander")
    return numbers


def _export(client, fmt="csv") -> ExportJob:
    wizard = Wizard.objects.get(code="member_list")
    client.post(reverse("wizard_export", args=[wizard.pk, fmt]), {"day": TODAY.isoformat()})
    job = ExportJob.objects.get()
    export_job_run(str(job.pk))
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_it_stores_a_background_export_in_the_object_store_and_streams_it_to_its_requester_only(
    federation, province_members, login, settings, object_store, object_storage,
):
    settings.WIZARD_EXPORT_SYNC_ROWS = 2
    client = login(federation.province_sb)
    job = _export(client)
    assert job.status == ExportJob.Status.DONE, job.message
    prefix = object_storage.rsplit("/", 1)[-1]
    assert object_store.keys(prefix) == [f"{prefix}/exports/{job.pk}.csv"]

    download = client.get(reverse("export_job_download", args=[job.pk]))
    assert download.status_code == 200
    numbers = {int(line.split(";")[0]) for line in b"".join(download.streaming_content).decode("utf-8-sig").splitlines()[1:]}
    assert numbers == province_members
    for other in ("national_sb", "province_la"):
        assert login(federation.users[other]).get(reverse("export_job_download", args=[job.pk])).status_code == 404

    # Never public: the object's own address refuses anyone without the key.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{object_store.endpoint}/{object_store.bucket}/{prefix}/exports/{job.pk}.csv")  # noqa: S310
    assert refused.value.code == 403

    # Running the task again (a second delivery) leaves one file.
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
    export_job_run(str(job.pk))
    assert object_store.keys(prefix) == [f"{prefix}/exports/{job.pk}.csv"]

    # The hourly clean-up removes the expired file from the store.
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert export_files_remove_expired() == 1
    assert object_store.keys(prefix) == []


@pytest.mark.django_db
def test_it_says_so_when_the_file_vanished_from_the_store_and_makes_it_again(
    federation, province_members, login, settings, object_store, object_storage,
):
    settings.WIZARD_EXPORT_SYNC_ROWS = 2
    client = login(federation.province_sb)
    job = _export(client, "xlsx")
    export_storage().delete(job.file_name)

    page = client.get(reverse("export_job_download", args=[job.pk]))
    assert page.status_code == 410
    content = page.content.decode()
    assert "niet meer in de bestandsopslag" in content
    assert reverse("export_job_again", args=[job.pk]) in content

    again = client.post(reverse("export_job_again", args=[job.pk]))
    new_job = ExportJob.objects.exclude(pk=job.pk).get()
    assert again.url == reverse("export_job_detail", args=[new_job.pk])
    assert (new_job.parameters, new_job.format, new_job.wizard_id) == (job.parameters, "xlsx", job.wizard_id)
    export_job_run(str(new_job.pk))
    assert client.get(reverse("export_job_download", args=[new_job.pk])).status_code == 200
    # Only its requester may ask for it again.
    assert login(federation.national_sb).post(reverse("export_job_again", args=[job.pk])).status_code == 404


# --- logos and letters ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_keeps_logos_in_the_store_and_puts_them_in_letters(federation, login, object_store, object_storage):
    federation.province1.logo.save("logo.png", ContentFile(_png()), save=True)
    prefix = object_storage.rsplit("/", 1)[-1]
    assert object_store.keys(prefix) == [f"{prefix}/{federation.province1.logo.name}"]

    response = login(federation.province_la).get(reverse("tenant_logo", args=[federation.province1.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == _png()
    assert login(federation.province2_sb).get(reverse("tenant_logo", args=[federation.province1.pk])).status_code == 404

    # WeasyPrint reads the logo for a letter from the store, and nothing outside media.
    url = f"{DOCUMENT_BASE_URL}media/{federation.province1.logo.name}"
    assert OwnFilesFetcher().fetch(url).read() == _png()
    with pytest.raises(ValueError):
        OwnFilesFetcher().fetch(f"{DOCUMENT_BASE_URL}media/exports/anything.csv")
    with pytest.raises(ValueError):
        OwnFilesFetcher().fetch(f"{DOCUMENT_BASE_URL}media/missing.png")


@pytest.mark.django_db
def test_it_keeps_mailed_letters_in_the_store_and_hands_them_out_through_the_card(
    federation, login, object_store, object_storage, django_capture_on_commit_callbacks, mailoutbox,
):
    from notifications.services import template_mail_send, token_context_for
    from relations.models import CommunicationEntry
    from tests.factories import make_mail_template

    federation.national.logo.save("logo.png", ContentFile(_png()), save=True)
    relation = make_relation(federation.department11, first_name="Femke", email="femke@example.org")
    template = make_mail_template(federation.national)
    with django_capture_on_commit_callbacks(execute=True):
        template_mail_send(actor=None, tenant=federation.province1, template=template,
                           context=token_context_for(relation, federation.province1), to_email=relation.email,
                           relation=relation)
    entry = CommunicationEntry.objects.get(relation=relation)
    prefix = object_storage.rsplit("/", 1)[-1]
    assert f"{prefix}/{entry.attachment.name}" in object_store.keys(prefix)
    [message] = mailoutbox
    pdf = message.attachments[0][1]
    assert pdf.startswith(b"%PDF")

    download = login(federation.province_la).get(reverse("communication_attachment", kwargs={"pk": entry.pk}))
    assert b"".join(download.streaming_content) == pdf
    assert login(federation.province2_sb).get(reverse("communication_attachment", kwargs={"pk": entry.pk})).status_code == 404
