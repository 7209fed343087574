"""The export log moved from wizards to relations (relations 0007): an existing database keeps its
rows and its permissions, and the way back works too."""

from __future__ import annotations

import pytest

BEFORE = [("relations", "0006_gdpr"), ("wizards", "0001_initial")]
AFTER = [("relations", "0007_exportlog_from_wizards"), ("wizards", "0002_exportlog_moves_to_relations")]


@pytest.mark.django_db(transaction=True)
def test_it_moves_the_export_log_forward_with_its_rows_and_content_type(federation, migrate_to):
    old = migrate_to(BEFORE)
    ContentType = old.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(model="exportlog").delete()
    content_type = ContentType.objects.create(app_label="wizards", model="exportlog")
    old.get_model("wizards", "ExportLog").objects.create(
        user_id=federation.national_sb.pk, tenant_id=federation.national.pk, what="Ledenlijst",
        format="csv", rows=12,
    )

    new = migrate_to(AFTER)
    assert list(new.get_model("relations", "ExportLog").objects.values_list("what", "rows")) == [("Ledenlijst", 12)]
    moved = new.get_model("contenttypes", "ContentType").objects.get(pk=content_type.pk)
    assert (moved.app_label, moved.model) == ("relations", "exportlog")

    back = migrate_to(BEFORE)
    assert back.get_model("contenttypes", "ContentType").objects.get(pk=content_type.pk).app_label == "wizards"
    assert back.get_model("wizards", "ExportLog").objects.count() == 1
