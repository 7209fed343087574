"""The search text without accents (relations/text.py): rewritten for the cards whose stored text
holds a character outside ASCII — the only ones folding changes."""

from django.db import migrations

from relations.text import search_text

BATCH = 1000


def fold_search_text(apps, schema_editor):
    Relation = apps.get_model("relations", "Relation")
    fields = ["first_name", "initials", "infix", "last_name", "organisation_name", "number", "email", "postcode", "city"]
    changed = []
    rows = Relation.objects.filter(search_text__regex=r"[^\x01-\x7f]").only("pk", "search_text", *fields)
    for relation in rows.iterator(chunk_size=BATCH):
        text = search_text(relation)
        if text != relation.search_text:
            relation.search_text = text
            changed.append(relation)
        if len(changed) >= BATCH:
            Relation.objects.bulk_update(changed, ["search_text"])
            changed = []
    Relation.objects.bulk_update(changed, ["search_text"])


class Migration(migrations.Migration):
    dependencies = [("relations", "0009_h_imports_archived")]
    operations = [migrations.RunPython(fold_search_text, migrations.RunPython.noop)]
