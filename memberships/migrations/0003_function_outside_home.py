from django.db import migrations, models

# Functions held outside their relation's home tenant and the tenants above it: the home's path
# does not start with the function tenant's path (treebeard materialised paths).
MARK_OUTSIDE_HOME = """
UPDATE memberships_function SET outside_home = TRUE WHERE id IN (
    SELECT f.id
    FROM memberships_function f
    JOIN relations_relation r ON r.id = f.relation_id
    JOIN tenants_tenant held ON held.id = f.tenant_id
    JOIN tenants_tenant home ON home.id = r.tenant_id
    WHERE substr(home.path, 1, length(held.path)) <> held.path
)
"""


class Migration(migrations.Migration):

    dependencies = [
        ("memberships", "0002_initial"),
        ("relations", "0003_column_filter_indexes"),
        ("tenants", "0001_initial"),
    ]

    operations = [
        # Replaced by a covering index for "member on date" in an environment.
        migrations.RemoveIndex(model_name="function", name="memberships_tenant__8a8306_idx"),
        migrations.AddIndex(
            model_name="function",
            index=models.Index(
                fields=["tenant", "function_type", "start_date"], include=("end_date", "relation"),
                name="function_held_on",
            ),
        ),
        migrations.AddField(
            model_name="function",
            name="outside_home",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunSQL(MARK_OUTSIDE_HOME, reverse_sql=migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="function",
            index=models.Index(
                condition=models.Q(("outside_home", True)),
                fields=["tenant", "start_date", "end_date", "relation"],
                name="function_outside_home",
            ),
        ),
    ]
