"""Is every service this installation needs reachable? The database, the cache (Redis with
CACHE_URL), the Celery broker and the file storage (local disk or the object store).

`/health/` answers 200 when all are, 503 naming the missing ones otherwise (for load balancers,
docker-compose health checks and people); the web process logs the same once when it starts
(wsgi.py), so a wrong bucket or a Redis that is down is named in the log before anyone clicks.
A request that meets a missing service gets a page that says which one, never a stack trace
(ServiceUnavailableMiddleware).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import storages
from django.db import DatabaseError, OperationalError, connections
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from ledenbeheer.storage import S3_BACKEND

logger = logging.getLogger("ledenbeheer.health")

# What each service is called on the page a user sees when it is missing.
SERVICE_NAMES = {
    "database": gettext_lazy("the database"),
    "cache": gettext_lazy("the cache (Redis)"),
    "broker": gettext_lazy("the queue for background work (Redis)"),
    "storage": gettext_lazy("the file storage"),
}


@dataclass
class Check:
    service: str
    ok: bool
    detail: str


def _database() -> Check:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return Check("database", False, f"not reachable: {type(error).__name__}")
    return Check("database", True, connections["default"].vendor)


def _cache() -> Check:
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    try:
        cache.set("health-probe", "1", 10)
        if cache.get("health-probe") != "1":
            return Check("cache", False, f"{backend} does not keep values")
    except Exception as error:  # any client error means the same: not usable
        return Check("cache", False, f"{backend} not reachable: {_reason(error)}")
    local = "LocMem" in backend
    return Check("cache", True, f"{backend} (this process only)" if local else backend)


def _broker() -> Check:
    url = settings.CELERY_BROKER_URL
    if not url:
        return Check("broker", True, "none: tasks run in the web process")
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
    except Exception as error:  # kombu raises the transport's own errors
        return Check("broker", False, f"not reachable: {_reason(error)}")
    return Check("broker", True, "reachable")


def _storage() -> Check:
    """The default and the exports storage: the bucket exists and our key may use it, or the
    local folder can be written."""
    details = []
    for alias in ("default", "exports"):
        storage = storages[alias]
        if settings.STORAGES[alias]["BACKEND"] == S3_BACKEND:
            problem = _bucket_problem(storage)
            if problem:
                return Check("storage", False, problem)
            details.append(f"{alias}: bucket {storage.bucket_name}")
        else:
            problem = _folder_problem(storage)
            if problem:
                return Check("storage", False, problem)
            details.append(f"{alias}: local disk")
    return Check("storage", True, ", ".join(dict.fromkeys(details)))


def _bucket_problem(storage) -> str | None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            return f"bucket {storage.bucket_name!r} does not exist"
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden"):
            return f"access to bucket {storage.bucket_name!r} refused: check the key and secret in STORAGE_URL"
        return f"object store answered {code}"
    except BotoCoreError as error:
        return f"object store not reachable: {_reason(error)}"
    return None


def _folder_problem(storage) -> str | None:
    import os
    from pathlib import Path

    folder = Path(storage.location)
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None or not os.access(existing, os.W_OK):
        return f"folder {folder} cannot be written"
    return None


def _reason(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]


def run_checks() -> list[Check]:
    return [_database(), _cache(), _broker(), _storage()]


@never_cache
def health(request):
    """GET /health/: every service with ok or what is wrong; 200 when all are ok, else 503. No
    login (load balancers ask it); it names no host, user or secret."""
    checks = run_checks()
    ok = all(check.ok for check in checks)
    body = {
        "status": "ok" if ok else "unavailable",
        "services": {check.service: {"ok": check.ok, "detail": check.detail} for check in checks},
    }
    for check in checks:
        if not check.ok:
            logger.error("Service missing: %s — %s", check.service, check.detail)
    return JsonResponse(body, status=200 if ok else 503, json_dumps_params={"ensure_ascii": False})


def log_checks_at_start() -> threading.Thread:
    """Log once, in the background, which services answer when a web process starts; a missing
    one is an ERROR naming it. The process starts either way."""

    def check() -> None:
        try:
            for result in run_checks():
                if result.ok:
                    logger.info("Service %s: ok (%s)", result.service, result.detail)
                else:
                    logger.error("Service missing at start: %s — %s (see /health/)", result.service, result.detail)
        finally:
            connections.close_all()

    thread = threading.Thread(target=check, name="health-at-start", daemon=True)
    thread.start()
    return thread


def missing_service(exception: Exception) -> str | None:
    """Which service an exception says is missing, or None when it is some other error."""
    import redis
    from kombu.exceptions import OperationalError as KombuOperationalError

    if isinstance(exception, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return "cache"
    if isinstance(exception, KombuOperationalError):
        return "broker"
    if isinstance(exception, OperationalError):
        return "database"
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return None
    if isinstance(exception, BotoCoreError):
        return "storage"
    if isinstance(exception, ClientError):
        code = str(exception.response.get("Error", {}).get("Code", ""))
        # Not a plain 404: that is one missing file, which the views answer themselves.
        if code in ("403", "AccessDenied", "NoSuchBucket", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                    "Forbidden", "ServiceUnavailable", "SlowDown", "InternalError", "503", "500"):
            return "storage"
    return None


class ServiceUnavailableMiddleware:
    """A request that meets a missing service (Redis down, a wrong object-store key or bucket, the
    database gone): a 503 page in the user's language that names the service, never a stack
    trace; the log gets the whole error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        service = missing_service(exception)
        if service is None:
            return None
        logger.error("Service missing during %s %s: %s", request.method, request.path, service, exc_info=exception)
        message = _(
            "This page cannot be shown right now: %(service)s is not reachable. Nothing was half-saved; "
            "try again in a few minutes. The administrators can see which service is missing on /health/."
        ) % {"service": SERVICE_NAMES[service]}
        # A page of its own, without the menu: that may need the very service that is missing.
        return render(request, "503.html", {"message": message}, status=503)
