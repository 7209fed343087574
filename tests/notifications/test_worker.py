"""A mail through a real Celery worker on Redis: the web side records it and enqueues on commit,
a separate worker process sends it and marks it sent. Needs CELERY_TEST_BROKER_URL and
PostgreSQL (the worker must reach the test database); skipped otherwise, except in CI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from ledenbeheer.celery import app
from notifications.models import OutboundMail
from notifications.services import template_mail_send, token_context_for
from tests.factories import make_mail_template, make_relation

BROKER = os.environ.get("CELERY_TEST_BROKER_URL")


def _forget_connections() -> None:
    # The app caches its queues and broker pool from the configuration it first saw (an earlier
    # test in this process may have made them): drop them so the changed settings apply.
    app.__dict__.pop("amqp", None)
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None


@pytest.fixture
def worker(settings, tmp_path):
    if not BROKER or connection.vendor != "postgresql":
        reason = "needs CELERY_TEST_BROKER_URL and PostgreSQL"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    db = connection.settings_dict
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DEBUG": "1",
    }
    queue = f"test-{os.getpid()}"
    process = subprocess.Popen(  # noqa: S603  (our own celery, fixed arguments)
        [Path(sys.executable).parent / "celery", "-A", "ledenbeheer", "worker", "--pool=solo", "-Q", queue,
         "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel=WARNING"],
        env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "worker.log").open("w"),
    )
    old = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "task_default_queue")}
    app.conf.update(task_always_eager=False, broker_url=BROKER, task_default_queue=queue)
    _forget_connections()
    try:
        yield mail_dir
    finally:
        app.conf.update(old)
        _forget_connections()
        process.terminate()
        process.wait(timeout=20)


def test_it_sends_a_mail_through_a_real_worker(transactional_db, federation, worker):
    relation = make_relation(federation.department11, first_name="Femke", email="femke@example.org")
    template = make_mail_template(federation.national)
    sent = template_mail_send(actor=None, tenant=federation.province1, template=template,
                              context=token_context_for(relation, federation.province1),
                              to_email=relation.email, relation=relation)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sent.refresh_from_db()
        if sent.status == OutboundMail.Status.SENT:
            break
        time.sleep(0.5)
    assert sent.status == OutboundMail.Status.SENT, (worker.parent / "worker.log").read_text()
    [message] = list(worker.iterdir())
    text = message.read_text()
    assert "Welkom Femke" in text and "femke@example.org" in text and "bevestiging.pdf" in text
    assert sent.communication_entry.attachment.name
