"""Bad input of an installation: a wrong object-store key or bucket, Redis or the broker down. The
health endpoint names the missing service, the log says it at start, and a user meets a page in
Dutch that names it — never a stack trace."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from ledenbeheer.health import log_checks_at_start
from ledenbeheer.storage import storages_setting
from tests.factories import make_intake_form
from tests.storage_support import free_port_pairs
from wizards.models import ExportJob, Wizard


def _health(client) -> tuple[int, dict]:
    response = client.get(reverse("health"))
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def _store(settings, url: str) -> None:
    settings.STORAGES = storages_setting(url, export_root=None, staticfiles_backend=settings.STORAGES["staticfiles"]["BACKEND"])


def _closed_port() -> int:
    return free_port_pairs(1)[0]


@pytest.mark.django_db
def test_it_reports_every_service_of_the_demo_as_ok(client):
    status, body = _health(client)
    assert status == 200 and body["status"] == "ok"
    assert set(body["services"]) == {"database", "cache", "broker", "storage"}
    assert body["services"]["broker"]["detail"] == "none: tasks run in the web process"
    assert "local disk" in body["services"]["storage"]["detail"]


@pytest.mark.django_db
def test_it_reports_the_object_store_when_it_answers(client, object_storage, object_store):
    status, body = _health(client)
    assert status == 200, body
    assert f"bucket {object_store.bucket}" in body["services"]["storage"]["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ({"bucket": "no-such-bucket"}, "bucket 'no-such-bucket' does not exist"),
        ({"secret": "wrong-secret"}, "access to bucket 'ledenbeheer-test' refused: check the key and secret in STORAGE_URL"),
    ],
    ids=["bucket", "secret"],
)
def test_it_names_a_wrong_bucket_or_key(client, settings, object_store, caplog, url, says):
    _store(settings, object_store.storage_url(**url))
    status, body = _health(client)
    assert status == 503 and body["status"] == "unavailable"
    assert body["services"]["storage"] == {"ok": False, "detail": says}
    assert body["services"]["database"]["ok"] and body["services"]["cache"]["ok"]
    assert "wrong-secret" not in str(body)
    assert f"Service missing: storage — {says}" in caplog.text


@pytest.mark.django_db
def test_it_names_an_object_store_that_does_not_answer(client, settings):
    _store(settings, f"s3+http://k:s@127.0.0.1:{_closed_port()}/bucket")
    status, body = _health(client)
    assert status == 503
    assert body["services"]["storage"]["detail"].startswith("object store not reachable")


@pytest.mark.django_db
def test_it_names_redis_and_the_broker_when_they_are_down(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    status, body = _health(client)
    assert status == 503
    assert not body["services"]["cache"]["ok"] and "not reachable" in body["services"]["cache"]["detail"]
    assert not body["services"]["broker"]["ok"] and "not reachable" in body["services"]["broker"]["detail"]
    assert body["services"]["database"]["ok"]


@pytest.mark.django_db
def test_it_logs_the_missing_service_when_the_process_starts(settings, object_store, caplog):
    caplog.set_level(logging.INFO, logger="ledenbeheer.health")
    _store(settings, object_store.storage_url(bucket="no-such-bucket"))
    log_checks_at_start().join(timeout=30)
    assert "Service missing at start: storage — bucket 'no-such-bucket' does not exist (see /health/)" in caplog.text
    assert "Service database: ok" in caplog.text


# --- what a user meets ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_tells_a_visitor_in_dutch_that_redis_is_missing_instead_of_a_stack_trace(client, federation, settings):
    intake_form = make_intake_form(federation.province1)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    answers = {
        "f_first_name": "Femke", "f_last_name": "Dijk", "f_birth_date": "2005-04-03", "f_email": "femke@example.org",
        "department": federation.department11.pk, "privacy": "on", "homepage": "",
    }
    response = client.post(reverse("intake_public", kwargs={"slug": intake_form.slug}), answers)
    assert response.status_code == 503
    content = response.content.decode()
    assert "de cache (Redis) is niet bereikbaar" in content and "Er is niets half opgeslagen" in content
    assert "Traceback" not in content and "ConnectionError" not in content


@pytest.mark.django_db
def test_it_tells_the_user_that_the_file_storage_is_missing(federation, login, settings, object_store):
    _store(settings, object_store.storage_url(secret="wrong-secret"))
    job = ExportJob.objects.create(
        user=federation.province_sb, tenant=federation.province1, wizard=Wizard.objects.get(code="member_list"),
        what="Ledenlijst", format="csv", status=ExportJob.Status.DONE, file_name="gone.csv",
        finished_at=timezone.now(), expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    response = login(federation.province_sb).get(reverse("export_job_download", args=[job.pk]))
    assert response.status_code == 503
    assert "de bestandsopslag is niet bereikbaar" in response.content.decode()


@pytest.mark.django_db
def test_it_answers_health_checks_over_plain_http_when_https_is_enforced(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("health")).status_code == 200
    assert client.get(reverse("login")).status_code == 301
