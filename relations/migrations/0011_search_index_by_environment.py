"""The search box's trigram index also holds each card's home environment (PostgreSQL only, a
guarded speed-up like 0002).

A province or department searches among the cards whose home lies in its subtree. With the
trigram index alone, PostgreSQL had to visit every card containing the typed text anywhere in
the federation and throw most of them away (or scan the table); with the home in the same GIN
index (btree_gin) it finds the cards that both match and lie in the subtree in one index scan.
The federation's own searches use the same index, on its text part. Partial like the name
order index (`relation_name_order`): archived cards are never listed. It replaces
`relation_search_trgm`, so the cards carry one search index, not two (docs/benchmarks.md,
"Search by environment").
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # btree_gin is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS relation_search_by_tenant ON relations_relation "
        "USING gin (tenant_id, search_text gin_trgm_ops) WHERE NOT archived"
    )
    schema_editor.execute("DROP INDEX IF EXISTS relation_search_trgm")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS relation_search_trgm ON relations_relation "
        "USING gin (search_text gin_trgm_ops)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS relation_search_by_tenant")


class Migration(migrations.Migration):
    dependencies = [("relations", "0010_h_search_folded_search_text")]
    operations = [migrations.RunPython(create, drop)]
