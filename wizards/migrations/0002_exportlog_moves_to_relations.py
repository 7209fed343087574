from django.db import migrations


class Migration(migrations.Migration):
    """The export log moves to the relations app, below wizards; its table stays (relations 0007
    takes it over)."""

    dependencies = [
        ("wizards", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ExportLog")],
            database_operations=[],
        ),
    ]
