"""A real Celery worker for tests that must go through the broker ("through a real worker").

Use the `celery_worker` fixture in a test that also uses `transactional_db` (the worker is another
process: it only sees committed rows):

    from tests.celery_support import celery_worker, celery_worker_env  # noqa: F401 (fixtures)

    def test_it_runs_in_the_worker(transactional_db, celery_worker):
        my_task.delay(...)            # sent to Redis, run by `celery -A ledenbeheer worker`
        celery_worker.wait_for(lambda: ..., timeout=30)

The worker is started as a subprocess with DATABASE_URL pointing at the pytest test database and
CELERY_BROKER_URL at CELERY_TEST_BROKER_URL (default redis://127.0.0.1:6379/0), listening on a
queue of its own so that other workers on the same Redis never take its tasks. MEDIA_ROOT follows
the test's settings; a test module can add variables by overriding the `celery_worker_env`
fixture. Without Redis or PostgreSQL the tests are skipped — unless CI is set, where that is a
failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"A real Celery worker is required in CI: {reason}")
    pytest.skip(reason)


def _database_url() -> str:
    from django.db import connection

    settings = connection.settings_dict
    user = quote(settings.get("USER") or "")
    password = quote(settings.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{settings['NAME']}"


def _forget_connections(app) -> None:
    """Drop the app's cached broker connections so the next send uses the current broker_url."""
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


@dataclass
class CeleryWorker:
    process: subprocess.Popen
    queue: str
    broker_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, condition: Callable[[], bool], timeout: float = 30, interval: float = 0.2) -> None:
        """Wait until `condition()` is true; fail with the worker's log when it never is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                break
            time.sleep(interval)
        pytest.fail(f"The condition was not met within {timeout} s. Worker log:\n{self.log()[-4000:]}")


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    """Extra environment variables for the worker process (override in a test module)."""
    return {}


@pytest.fixture
def celery_worker(transactional_db, settings, tmp_path, celery_worker_env) -> Iterator[CeleryWorker]:
    from django.db import connection

    from ledenbeheer.celery import app

    if connection.vendor != "postgresql":
        _unavailable("the worker needs the test database on PostgreSQL (set DATABASE_URL)")
    broker_url = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/0")
    try:
        import redis

        redis.Redis.from_url(broker_url, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001 (any failure means: no usable Redis)
        _unavailable(f"Redis at {broker_url} is not reachable ({error})")

    queue = f"test-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path / "celery-worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ledenbeheer.settings",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **celery_worker_env,
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    command = [
        sys.executable, "-m", "celery", "-A", "ledenbeheer", "worker", "--pool=solo", "--loglevel=INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue, "-n", f"{queue}@%h",
    ]
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    worker = CeleryWorker(process, queue, broker_url, log_path)

    # This process sends to the same broker and queue instead of running tasks eagerly.
    previous = {key: app.conf.get(key) for key in ("broker_url", "task_always_eager", "task_default_queue")}
    app.conf.update(broker_url=broker_url, task_always_eager=False, task_default_queue=queue)
    _forget_connections(app)
    try:
        worker.wait_for(lambda: " ready." in worker.log(), timeout=READY_TIMEOUT)
        yield worker
    finally:
        app.conf.update(previous)
        _forget_connections(app)
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        try:
            import redis

            redis.Redis.from_url(broker_url).delete(queue)
        except Exception:  # noqa: BLE001,S110 (clearing the queue is tidying up, not the test)
            pass
