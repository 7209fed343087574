"""Trigram index for the one search box on PostgreSQL (a guarded, PostgreSQL-only speed-up);
the first relation number."""

from django.db import migrations


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS relation_search_trgm ON relations_relation "
        "USING gin (search_text gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS relation_search_trgm")


def create_counter(apps, schema_editor):
    apps.get_model("relations", "RelationNumberCounter").objects.get_or_create(pk=1, defaults={"value": 100000})


class Migration(migrations.Migration):
    dependencies = [("relations", "0001_initial")]
    operations = [
        migrations.RunPython(create_trigram_index, drop_trigram_index),
        migrations.RunPython(create_counter, migrations.RunPython.noop),
    ]
