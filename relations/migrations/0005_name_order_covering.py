from django.db import migrations, models


def search_text_statistics(apps, schema_editor, target=1000):
    """A finer sample of search_text for the planner (PostgreSQL): with the default 100 values
    it guesses how many cards contain "abc" from too few of them, and then picks the wrong way to
    find a page (docs/benchmarks.md, run 8)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE relations_relation ALTER COLUMN search_text SET STATISTICS {int(target)}")


def search_text_statistics_default(apps, schema_editor):
    search_text_statistics(apps, schema_editor, target=-1)


class Migration(migrations.Migration):

    dependencies = [
        ("relations", "0004_history_on_behalf_of"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="relation", name="relations_r_last_na_2619d7_idx"),
        migrations.AddIndex(
            model_name="relation",
            index=models.Index(
                fields=["last_name", "first_name", "number"], include=("search_text", "id", "tenant"),
                name="relation_name_order",
            ),
        ),
        migrations.RunPython(search_text_statistics, search_text_statistics_default),
    ]
