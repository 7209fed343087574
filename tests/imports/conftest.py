"""Helpers of the import tests: make an import from bytes and run it through check."""

from __future__ import annotations

import pytest

from imports import services


@pytest.fixture
def upload(federation):
    def _upload(data: bytes, name: str = "leden.csv", *, user=None, tenant=None, options=None, mapping=None, check=True):
        user = user or federation.province_la
        tenant = tenant or federation.province1
        batch = services.import_upload(actor=user, tenant=tenant, name=name, data=data)
        if options is not None or mapping is not None:
            batch = services.import_mapping_set(actor=user, batch=batch, mapping=mapping or batch.mapping, options=options or {})
        if check:
            batch = services.import_check(batch=batch)
        return batch

    return _upload
