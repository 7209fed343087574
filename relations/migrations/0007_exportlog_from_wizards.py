import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def content_types_move(apps, schema_editor):
    """Existing permissions follow the model to its new app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="wizards", model="exportlog").update(app_label="relations")


def content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="relations", model="exportlog").update(app_label="wizards")


class Migration(migrations.Migration):
    """Takes over the export log's table from the wizards app with its name; no table is created
    or copied."""

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("relations", "0006_gdpr"),
        ("tenants", "0001_initial"),
        ("wizards", "0002_exportlog_moves_to_relations"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ExportLog",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("what", models.CharField(max_length=200, verbose_name="what")),
                        ("format", models.CharField(max_length=10, verbose_name="format")),
                        ("rows", models.PositiveIntegerField(verbose_name="rows")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="when")),
                        ("tenant", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenants.tenant")),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "verbose_name": "export log entry",
                        "verbose_name_plural": "export log",
                        "db_table": "wizards_exportlog",
                        "ordering": ["-created_at"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_back),
    ]
