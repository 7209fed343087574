"""Fixtures of the notifications tests: the real Celery worker (tests/celery_support.py)."""

from tests.celery_support import celery_worker, celery_worker_process  # noqa: F401 (fixtures)
