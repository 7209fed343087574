"""More than one machine (issue 13): two web processes (gunicorn, on two ports) sharing PostgreSQL,
Redis (CACHE_URL) and the object store (STORAGE_URL). A download made on one is fetched from the
other; the lock-out and the intake rate limit count across both. And a web process whose object
store is wrong still starts, and says which service is missing.

Real processes, real HTTP: nothing here goes through Django's test client."""

from __future__ import annotations

import datetime
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from tests.celery_support import DEFAULT_BROKER, _database_url, _redis_answers, _unavailable
from tests.conftest import PASSWORD
from tests.factories import make_intake_form, make_relation
from wizards.models import ExportJob, Wizard

READY_TIMEOUT = 90
SERVER_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]


@dataclass
class Web:
    base: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Browser:
    """One visitor: a cookie jar shared by both web processes (cookies do not care about ports)."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, url: str) -> tuple[int, bytes]:
        return self._open(urllib.request.Request(url))  # noqa: S310 (our own test servers)

    def post(self, url: str, data: dict) -> tuple[int, bytes]:
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf()}).encode()
        return self._open(urllib.request.Request(url, data=body, method="POST"))  # noqa: S310

    def _open(self, request) -> tuple[int, bytes]:
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_web(env: dict, directory: Path, name: str) -> Web:
    port = _free_port()
    log_path = directory / f"{name}.log"
    command = [
        sys.executable, "-m", "gunicorn", "ledenbeheer.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
        "--access-logfile", "-", "--timeout", "120",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own command line)
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    web = Web(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"{web.base}/health/", timeout=10):  # noqa: S310
                return web
        except urllib.error.HTTPError:
            return web  # it answers (503 says a service is missing): started
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                _stop(web)
                pytest.fail(f"The web process did not start:\n{web.log()[-4000:]}")
            time.sleep(0.3)


def _stop(web: Web) -> None:
    web.process.terminate()
    try:
        web.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        web.process.kill()
        web.process.wait()


def _environment(database_url: str, cache_url: str, storage_url: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ledenbeheer.settings",
        "DEBUG": "1",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "STORAGE_URL": storage_url,
        "CELERY_BROKER_URL": "",
        "WIZARD_EXPORT_SYNC_ROWS": "2",
        "INTAKE_RATE_LIMIT": "3",
        "AXES_FAILURE_LIMIT": "5",
        "ADDRESS_LOOKUP": "ledenbeheer.addresses.NoLookup",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SITE_URL": "http://testserver",
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture(scope="module")
def shared_services(django_db_setup, django_db_blocker, object_store):
    """The URLs both web processes share: the test database, a Redis database, the object store."""
    cache_url = os.environ.get("CELERY_TEST_BROKER_URL", DEFAULT_BROKER)
    if not _redis_answers(cache_url):
        _unavailable(f"Redis does not answer at {cache_url}")
    with django_db_blocker.unblock():
        database_url = _database_url()
    return database_url, cache_url, object_store.storage_url(f"web-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="module")
def web_processes(shared_services, tmp_path_factory):
    env = _environment(*shared_services)
    directory = tmp_path_factory.mktemp("web")
    webs = [_start_web(env, directory, "web-a"), _start_web(env, directory, "web-b")]
    try:
        yield webs
    finally:
        for web in webs:
            _stop(web)


@pytest.fixture
def two_webs(web_processes, shared_services, transactional_db):
    """Both web processes, with this test's committed rows and no counts left in Redis."""
    import redis

    client = redis.Redis.from_url(shared_services[1])
    for pattern in (":1:rate:*",):
        for key in client.scan_iter(pattern):
            client.delete(key)
    return web_processes


def _server_password(*users) -> None:
    """The servers hash with the production hasher, not the test suite's fast one."""
    with override_settings(PASSWORD_HASHERS=SERVER_HASHERS):
        for user in users:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])


def _log_in(browser: Browser, web: Web, username: str, password: str) -> int:
    browser.get(f"{web.base}/accounts/login/")
    status, _body = browser.post(f"{web.base}/accounts/login/", {"username": username, "password": password})
    return status


def test_an_export_made_on_one_web_process_downloads_from_the_other(two_webs, federation, object_store):
    web_a, web_b = two_webs
    _server_password(federation.province_la)
    members = {make_relation(federation.department11, last_name=f"Lid {i}").number for i in range(4)}
    browser = Browser()
    assert _log_in(browser, web_a, "province_la", PASSWORD) == 302

    wizard = Wizard.objects.get(code="member_list")
    status, _body = browser.post(f"{web_a.base}/wizards/{wizard.pk}/export/csv/", {"day": datetime.date.today().isoformat()})
    assert status == 302, web_a.log()[-3000:]
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE, job.message  # without a broker: made in web A's process

    status, content = browser.get(f"{web_b.base}/wizards/exports/{job.pk}/download/")
    assert status == 200, web_b.log()[-3000:]
    numbers = {int(line.split(";")[0]) for line in content.decode("utf-8-sig").splitlines()[1:]}
    assert numbers == members
    assert any(key.endswith(f"/exports/{job.pk}.csv") for key in object_store.keys("web-"))
    # Someone else, logged in on B, does not get it.
    _server_password(federation.national_la)
    other = Browser()
    assert _log_in(other, web_b, "national_la", PASSWORD) == 302
    assert other.get(f"{web_b.base}/wizards/exports/{job.pk}/download/")[0] == 404


def test_the_lock_out_and_the_intake_rate_limit_count_across_both(two_webs, federation):
    web_a, web_b = two_webs
    _server_password(federation.department_la)
    browser = Browser()
    # Failures alternate between the processes; the fifth locks (2 + 2 + 1 counted together).
    tries = [_log_in(browser, web, "department_la", "not-the-password") for web in (web_a, web_b, web_a, web_b, web_a)]
    assert tries == [200, 200, 200, 200, 429]
    # Then even the right password is refused, on either process.
    assert _log_in(browser, web_b, "department_la", PASSWORD) == 429
    assert _log_in(browser, web_a, "department_la", PASSWORD) == 429

    intake_form = make_intake_form(federation.province1)
    answers = {
        "f_first_name": "Femke", "f_last_name": "Dijk", "f_birth_date": "2005-04-03", "department": federation.department11.pk,
        "privacy": "on", "homepage": "",
    }
    visitor = Browser()
    visitor.get(f"{web_a.base}/accounts/login/")  # a CSRF cookie, as the form page would give
    sent = []
    for n, web in enumerate((web_a, web_b, web_a, web_b)):
        status, body = visitor.post(f"{web.base}/aanmelden/{intake_form.slug}/", {**answers, "f_email": f"f{n}@example.org"})
        sent.append(status)
    assert sent == [302, 302, 302, 429]
    status, body = visitor.post(f"{web_a.base}/aanmelden/{intake_form.slug}/", {**answers, "f_email": "f9@example.org"})
    assert status == 429 and "Te veel formulieren" in body.decode()


def test_a_web_process_with_a_wrong_bucket_starts_and_names_the_missing_service(
    shared_services, object_store, tmp_path, transactional_db,
):
    database_url, cache_url, _storage_url = shared_services
    env = _environment(database_url, cache_url, object_store.storage_url(bucket="no-such-bucket"))
    web = _start_web(env, tmp_path, "web-wrong-bucket")
    try:
        status, body = Browser().get(f"{web.base}/health/")
        assert status == 503
        assert b"bucket 'no-such-bucket' does not exist" in body
        deadline = time.monotonic() + 30
        while "Service missing at start: storage" not in web.log() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert re.search(r"Service missing at start: storage — bucket 'no-such-bucket' does not exist", web.log())
        assert "Traceback" not in web.log()
    finally:
        _stop(web)
