"""The real object store (SeaweedFS) for the tests of this folder: tests/storage_support.py."""

from tests.storage_support import object_storage, object_store  # noqa: F401 (fixtures)
