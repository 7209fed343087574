"""Where files live: local disk (the demo, one machine) or S3-compatible object storage shared by
every web and worker machine (STORAGE_URL, docs/configuration.md "Files").

Every file of the application goes through Django's storage API: `default` for uploads and
generated documents (logos, attachments, letters, invoices, SEPA files, import files), `exports`
for the wizards' background downloads. Nothing is ever served straight from the storage: the
application's own views check who may see a file and stream it (docs/scaling.md).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage
from django.utils.functional import cached_property

S3_BACKEND = "storages.backends.s3.S3Storage"
LOCAL_BACKEND = "django.core.files.storage.FileSystemStorage"
EXPORTS_LOCAL_BACKEND = "ledenbeheer.storage.ExportFileStorage"
# Short-lived signed URLs, should anything ever ask the storage for a URL: five minutes.
SIGNED_URL_SECONDS = 300


def s3_options(url: str) -> dict:
    """STORAGE_URL → the options of django-storages' S3Storage.

    s3://KEY:SECRET@host[:port]/bucket[/prefix][?region=eu-west-1]   (HTTPS)
    s3+http://KEY:SECRET@host[:port]/bucket[/prefix]                  (plain HTTP, e.g. in a private network)

    Without KEY:SECRET boto3 finds credentials the usual way (environment, instance role). Key
    and secret are URL-encoded when they contain `/`, `+` or `@`."""
    parts = urlsplit(url)
    if parts.scheme not in ("s3", "s3+http", "s3+https"):
        raise ImproperlyConfigured(f"STORAGE_URL must start with s3:// or s3+http://, not {parts.scheme!r}://")
    if not parts.hostname:
        raise ImproperlyConfigured("STORAGE_URL names no host (s3://KEY:SECRET@host/bucket)")
    bucket, _, prefix = parts.path.lstrip("/").partition("/")
    if not bucket:
        raise ImproperlyConfigured("STORAGE_URL names no bucket (s3://KEY:SECRET@host/bucket)")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    scheme = "http" if parts.scheme == "s3+http" else "https"
    port = f":{parts.port}" if parts.port else ""
    return {
        "bucket_name": bucket,
        "location": prefix.strip("/"),
        "endpoint_url": f"{scheme}://{parts.hostname}{port}",
        "access_key": unquote(parts.username) if parts.username else None,
        "secret_key": unquote(parts.password) if parts.password else None,
        "region_name": query.get("region", "us-east-1"),
        # Path-style addresses (host/bucket/key) work with every S3-compatible server.
        "addressing_style": query.get("addressing", "path"),
        "signature_version": "s3v4",
        # No ACL header: objects get the bucket's own (private) policy. Never public.
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": SIGNED_URL_SECONDS,
        # A second file of the same name gets a new name, as on local disk.
        "file_overwrite": False,
        "client_config": s3_client_config(),
    }


def storages_setting(storage_url: str | None, *, export_root: str | None, staticfiles_backend: str) -> dict:
    """The STORAGES setting for this installation."""
    if storage_url:
        options = s3_options(storage_url)
        exports = {**options, "location": "/".join(p for p in (options["location"], "exports") if p)}
        default = {"BACKEND": S3_BACKEND, "OPTIONS": options}
        exports_storage = {"BACKEND": S3_BACKEND, "OPTIONS": exports}
    else:
        default = {"BACKEND": LOCAL_BACKEND}
        exports_storage = {"BACKEND": EXPORTS_LOCAL_BACKEND, "OPTIONS": {"location": export_root}}
    return {"default": default, "exports": exports_storage, "staticfiles": {"BACKEND": staticfiles_backend}}


def s3_client_config():
    """Short time-outs: a missing object store is reported within seconds, not minutes."""
    from botocore.config import Config

    return Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 2, "mode": "standard"})


def uses_object_store() -> bool:
    return settings.STORAGES["default"]["BACKEND"] == S3_BACKEND


class ExportFileStorage(FileSystemStorage):
    """Local disk for the wizards' background downloads: WIZARD_EXPORT_ROOT, else MEDIA_ROOT/exports
    (following MEDIA_ROOT when it changes, as in the tests). Never served by URL."""

    def __init__(self, location: str | None = None, **kwargs):
        super().__init__(location=location, base_url=None, **kwargs)

    @cached_property
    def base_location(self):
        return self._location or Path(settings.MEDIA_ROOT) / "exports"

    def url(self, name):
        raise ValueError("Export files are only handed out by the download view")
