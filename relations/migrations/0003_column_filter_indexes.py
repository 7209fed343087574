"""Trigram indexes for the city and postcode column filters on PostgreSQL (a guarded,
PostgreSQL-only speed-up). Django writes `icontains` as UPPER(column::text) LIKE UPPER(…); the
indexed expression is exactly that."""

from django.db import migrations

COLUMNS = ("city", "postcode")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS relation_{column}_upper_trgm ON relations_relation "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS relation_{column}_upper_trgm")


class Migration(migrations.Migration):
    dependencies = [("relations", "0002_search_index")]
    operations = [migrations.RunPython(create, drop)]
