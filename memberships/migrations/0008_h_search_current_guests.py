"""The partial index of guest functions ordered by the day each ends, so a scope reads only
current ones (issue 16, point 6)."""

import datetime
import django.db.models.functions.comparison
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("memberships", "0007_intake_moves_to_intake_app"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="function",
            name="function_outside_home",
        ),
        migrations.AddIndex(
            model_name="function",
            index=models.Index(
                models.F("tenant"),
                django.db.models.functions.comparison.Coalesce(
                    "end_date",
                    models.Value(datetime.date(9999, 12, 31), output_field=models.DateField()),
                ),
                condition=models.Q(("outside_home", True)),
                include=("start_date", "end_date", "relation"),
                name="function_outside_home_until",
            ),
        ),
    ]
