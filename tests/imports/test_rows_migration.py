"""A file checked before imports 0003 kept its rows in `result["rows"]`: the migration moves them
to ImportRow, so that the preview and the import still find them."""

from __future__ import annotations

import pytest

from imports import services
from imports.models import ImportBatch

BEFORE = [("imports", "0002_h_imports_merge_record")]
AFTER = [("imports", "0003_h_importspeed_rows")]


@pytest.mark.django_db(transaction=True)
def test_it_moves_checked_rows_out_of_the_result(federation, migrate_to):
    rows = [{"line": 2, "action": "new", "errors": [], "data": {"last_name": "Oud"}},
            {"line": 3, "action": "error", "errors": [["Geboortedatum", "31-02-1980 bestaat niet."]], "data": {}}]
    old_apps = migrate_to(BEFORE)
    old_batch = old_apps.get_model("imports", "ImportBatch").objects.create(
        tenant_id=federation.national.pk, user_id=federation.national_la.pk, file="x.csv", file_name="x.csv",
        file_type="csv", status="checked", result={"rows": rows, "summary": {"new": 1, "error": 1}},
    )
    migrate_to(AFTER)
    batch = ImportBatch.objects.get(pk=old_batch.pk)
    assert batch.result == {"summary": {"new": 1, "error": 1}}
    assert list(services.batch_rows(batch)) == rows
    assert services.row_errors(batch) == [(3, "Geboortedatum", "31-02-1980 bestaat niet.")]
