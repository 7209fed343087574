"""A real Celery worker for tests that must see tasks go through Redis (ARCHITECTURE "Jobs and
mail"): `celery -A ledenbeheer worker` as a subprocess, connected to the pytest test database and
to a Redis broker, listening on a queue of its own so parallel test processes never take each
other's tasks.

Make the fixtures known in the conftest.py of a test folder (or import them in the module):

    from tests.celery_support import celery_worker, celery_worker_process  # noqa: F401 (fixtures)

and use them in a test:

    def test_it_runs_through_a_worker(celery_worker):
        result = celery_worker.call("quality.tasks.run_job", "quality_checks")  # by name
        some_task.delay(...)                    # or the way the application sends it
        celery_worker.wait_for(lambda: ..., timeout=60)

`celery_worker` brings `transactional_db` with it (the worker is another process and only sees
committed rows) and, for the length of the test, points the project's Celery app at the worker's
queue instead of running tasks eagerly, and MEDIA_ROOT at the worker's media folder, so files
either side writes are found by the other. The broker is CELERY_TEST_BROKER_URL (.ci/run sets
it; default redis://127.0.0.1:6379/15). Without Redis or PostgreSQL the tests are skipped —
unless CI is set, then they fail. Mail the worker sends goes to files (Django's file backend);
`celery_worker.sent_mail()` reads them back.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from celery.result import allow_join_result
from django.conf import settings

DEFAULT_BROKER = "redis://127.0.0.1:6379/15"
READY_TIMEOUT = 90


@dataclass
class CeleryWorker:
    broker_url: str
    queue: str
    name: str
    mail_dir: Path
    media_root: Path
    log_path: Path
    process: subprocess.Popen
    app: Celery = field(repr=False)

    def send(self, task_name: str, *args, task_id: str | None = None, **kwargs):
        """Put a task on the worker's queue; returns its AsyncResult."""
        return self.app.send_task(task_name, args=args, kwargs=kwargs, queue=self.queue, task_id=task_id)

    def call(self, task_name: str, *args, timeout: float = 120, **kwargs):
        """Run a task on the worker and return its result (raises what the task raised). The test
        process is never a task itself, so waiting here is allowed even when an eager task run
        earlier in this process left Celery's "inside a task" flag behind."""
        with allow_join_result():
            return self.send(task_name, *args, **kwargs).get(timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60, interval: float = 0.2) -> None:
        """Wait until `condition()` is true; fail with the worker's log when it never is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                break
            time.sleep(interval)
        pytest.fail(f"The condition was not met within {timeout} s. Worker log:\n{self.log()[-4000:]}")

    def wait_for_log(self, text: str, *, count: int = 1, timeout: float = 60) -> None:
        self.wait_for(lambda: self.log().count(text) >= count, timeout=timeout)

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


def _forget_connections(app) -> None:
    """Make the app's next send use the current broker_url and default queue."""
    # The queues follow task_default_queue when amqp is rebuilt. The pools themselves are kombu's,
    # shared per broker address: forgetting them is enough, closing them would break later sends.
    amqp = app.__dict__.pop("amqp", None)
    if amqp is not None:
        amqp._producer_pool = None
    app._pool = None


@pytest.fixture
def celery_worker(transactional_db, celery_worker_process, settings):
    """The session's worker, with the mail of earlier tests cleared, and this process sending
    the application's tasks to it."""
    worker = celery_worker_process
    for path in worker.mail_dir.glob("*"):
        path.unlink()
    settings.MEDIA_ROOT = worker.media_root
    with app_sending_to(worker.queue, worker.broker_url):
        yield worker


def worker_start(*, broker: str, queue: str, directory: Path, database_url: str, env: dict | None = None,
                 base_dir: Path) -> CeleryWorker:
    """Start `celery worker` on `queue` in a process group of its own (so a test can kill the
    whole group, children included); returns once it is ready."""
    directory.mkdir(parents=True, exist_ok=True)
    mail_dir = directory / "mail"
    mail_dir.mkdir(exist_ok=True)
    media_root = directory / "media"
    media_root.mkdir(exist_ok=True)
    log_path = directory / f"worker-{uuid.uuid4().hex[:6]}.log"
    name = f"{queue}-{uuid.uuid4().hex[:4]}@%h"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ledenbeheer.settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "MEDIA_ROOT": str(media_root),
        "SITE_URL": "http://testserver",
        "ADDRESS_LOOKUP": "ledenbeheer.addresses.NoLookup",
        # What the worker queues itself (the reaper's tasks, next steps) stays on its queue.
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "ledenbeheer", "worker", "-l", "info", "-Q", queue, "-n", name,
        "--concurrency", "2", "--without-gossip", "--without-mingle",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own command line)
            command, cwd=base_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    # Not the current app: the application's shared tasks must keep sending through its own app.
    app = Celery("ledenbeheer-tests", broker=broker, backend=broker, set_as_current=False)
    worker = CeleryWorker(broker, queue, name, mail_dir, media_root, log_path, process, app)
    deadline = time.monotonic() + READY_TIMEOUT
    while "ready." not in worker.log():
        if process.poll() is not None or time.monotonic() > deadline:
            worker_stop(worker)
            pytest.fail(f"The Celery worker did not start:\n{worker.log()[-4000:]}")
        time.sleep(0.2)
    return worker


def worker_kill(worker: CeleryWorker) -> None:
    """SIGKILL the worker's whole process group: the main process and its pool children die at
    once, with no chance to acknowledge, roll back or give anything back."""
    with suppress(ProcessLookupError):
        os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    worker.app.close()


def worker_stop(worker: CeleryWorker) -> None:
    worker.process.terminate()
    try:
        worker.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker_kill(worker)
    worker.app.close()


@contextmanager
def app_sending_to(queue: str, broker: str):
    """Point the project's Celery app at `queue` on `broker` instead of running tasks eagerly."""
    from ledenbeheer.celery import app

    previous = {key: app.conf.get(key) for key in ("broker_url", "task_always_eager", "task_default_queue")}
    app.conf.update(broker_url=broker, task_always_eager=False, task_default_queue=queue)
    _forget_connections(app)
    try:
        yield app
    finally:
        app.conf.update(previous)
        _forget_connections(app)


@pytest.fixture
def killable_workers(transactional_db, tmp_path, settings):
    """Start and kill real workers on one queue of this test's own (tests/jobs/): `start(env)`
    starts one with extra environment variables, `kill(worker)` SIGKILLs its process group.
    This process sends the application's tasks to that queue for the length of the test."""
    broker = os.environ.get("CELERY_TEST_BROKER_URL", DEFAULT_BROKER)
    if not _redis_answers(broker):
        _unavailable(f"Redis does not answer at {broker}")
    database_url = _database_url()
    queue = f"kill-{uuid.uuid4().hex[:12]}"
    started: list[CeleryWorker] = []
    media_root = tmp_path / "media"
    settings.MEDIA_ROOT = media_root

    class Workers:
        def start(self, env: dict | None = None) -> CeleryWorker:
            worker = worker_start(broker=broker, queue=queue, directory=tmp_path, database_url=database_url,
                                  env=env, base_dir=settings.BASE_DIR)
            started.append(worker)
            return worker

        kill = staticmethod(worker_kill)

    with app_sending_to(queue, broker):
        try:
            yield Workers()
        finally:
            for worker in started:
                if worker.process.poll() is None:
                    worker_stop(worker)
            import redis

            try:
                client = redis.Redis.from_url(broker)
                client.delete(queue)
            except redis.RedisError:
                pass


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """One worker per test session (per xdist process), on a queue of its own."""
    broker = os.environ.get("CELERY_TEST_BROKER_URL", DEFAULT_BROKER)
    if not _redis_answers(broker):
        _unavailable(f"Redis does not answer at {broker}")
    with django_db_blocker.unblock():
        database_url = _database_url()
    queue = f"test-{uuid.uuid4().hex[:12]}"
    worker = worker_start(broker=broker, queue=queue, directory=tmp_path_factory.mktemp("celery-worker"),
                          database_url=database_url, base_dir=settings.BASE_DIR)
    try:
        yield worker
    finally:
        worker_stop(worker)
        try:
            import redis

            redis.Redis.from_url(broker).delete(queue)
        except redis.RedisError:
            pass
