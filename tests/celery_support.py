"""A real Celery worker for tests that must see tasks go through Redis (ARCHITECTURE "Jobs and
mail"): `celery -A ledenbeheer worker` as a subprocess, connected to the pytest test database and
to a Redis broker, listening on a queue of its own so parallel test processes never take each
other's tasks.

Make the fixtures known in the conftest.py of a test folder:

    from tests.celery_support import celery_worker, celery_worker_process  # noqa: F401 (fixtures)

and use them in a test:

    def test_it_runs_through_a_worker(celery_worker):
        result = celery_worker.call("notifications.tasks.run_job", "quality_checks")

The fixture brings `transactional_db` with it: the worker is another process and only sees
committed rows. The broker is CELERY_TEST_BROKER_URL (.ci/run sets it; default redis://127.0.0.1:6379/15).
Without Redis or PostgreSQL the tests are skipped — unless CI is set, then they fail.
Mail the worker sends goes to files in `celery_worker.mail_dir` (Django's file backend);
`celery_worker.sent_mail()` reads them back.
"""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.conf import settings

DEFAULT_BROKER = "redis://127.0.0.1:6379/15"
READY_TIMEOUT = 90


@dataclass
class CeleryWorker:
    broker_url: str
    queue: str
    name: str
    mail_dir: Path
    log_path: Path
    process: subprocess.Popen
    app: Celery = field(repr=False)

    def send(self, task_name: str, *args, task_id: str | None = None, **kwargs):
        """Put a task on the worker's queue; returns its AsyncResult."""
        return self.app.send_task(task_name, args=args, kwargs=kwargs, queue=self.queue, task_id=task_id)

    def call(self, task_name: str, *args, timeout: float = 120, **kwargs):
        """Run a task on the worker and return its result (raises what the task raised)."""
        return self.send(task_name, *args, **kwargs).get(timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, *, count: int = 1, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.log().count(text) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear {count}× in the worker log:\n{self.log()[-4000:]}")
            time.sleep(0.2)

    def sent_mail(self) -> list[email.message.EmailMessage]:
        messages = []
        for path in sorted(self.mail_dir.glob("*.log")):
            # The file backend writes each message followed by a line of dashes.
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    messages.append(email.message_from_bytes(chunk.strip(), policy=email.policy.default))
        return messages


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"A real Celery worker is required in CI: {reason}")
    pytest.skip(reason)


def _database_url() -> str:
    from django.db import connection

    if connection.vendor != "postgresql":
        _unavailable("a real worker needs the PostgreSQL test database (set DATABASE_URL)")
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def celery_worker(transactional_db, celery_worker_process) -> CeleryWorker:
    """The session's worker, with the mail of earlier tests cleared. Requests transactional_db:
    the worker only sees committed rows."""
    for path in celery_worker_process.mail_dir.glob("*"):
        path.unlink()
    return celery_worker_process


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """One worker per test session (per xdist process), on a queue of its own."""
    broker = os.environ.get("CELERY_TEST_BROKER_URL", DEFAULT_BROKER)
    if not _redis_answers(broker):
        _unavailable(f"Redis does not answer at {broker}")
    with django_db_blocker.unblock():
        database_url = _database_url()
    queue = f"test-{uuid.uuid4().hex[:12]}"
    name = f"{queue}@%h"
    directory = tmp_path_factory.mktemp("celery-worker")
    mail_dir = directory / "mail"
    mail_dir.mkdir()
    log_path = directory / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ledenbeheer.settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "SITE_URL": "http://testserver",
        "ADDRESS_LOOKUP": "ledenbeheer.addresses.NoLookup",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "ledenbeheer", "worker", "-l", "info", "-Q", queue, "-n", name,
        "--concurrency", "2", "--without-gossip", "--without-mingle",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own command line)
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    app = Celery("ledenbeheer-tests", broker=broker, backend=broker)
    worker = CeleryWorker(broker, queue, name, mail_dir, log_path, process, app)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while "ready." not in worker.log():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"The Celery worker did not start:\n{worker.log()[-4000:]}")
            time.sleep(0.2)
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        app.close()
