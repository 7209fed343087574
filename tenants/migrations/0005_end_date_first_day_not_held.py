"""End dates become the first day a row no longer holds (docs/definitions.md, issue 16 point 15).

Until now an end date was the last day a function or role held; the one definition of "current"
(`tenants.periods`) reads it as the first day it no longer holds. Moving every end date of the
rows entered before one day on keeps their meaning: whoever was a member through 31 December
still is. The history rows move along, so a card's history tells the same story. Reversible."""

from django.db import migrations

TABLES = ["tenants_roleassignment", "tenants_historicalroleassignment"]


def _shift(schema_editor, days: int) -> None:
    # On the way back a row whose end date is its start date (it never held) stays as it is: its
    # end date cannot come before its start.
    where = "end_date IS NOT NULL" + (" AND end_date > start_date" if days < 0 else "")
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model_label in TABLES:
            table = quote(model_label)
            if connection.vendor == "postgresql":
                cursor.execute(f"UPDATE {table} SET end_date = end_date + %s WHERE {where}", [days])  # noqa: S608
            else:
                cursor.execute(
                    f"UPDATE {table} SET end_date = date(end_date, %s) WHERE {where}",  # noqa: S608
                    [f"{days:+d} day"],
                )


def forward(apps, schema_editor):
    _shift(schema_editor, 1)


def backward(apps, schema_editor):
    _shift(schema_editor, -1)


class Migration(migrations.Migration):
    dependencies = [("tenants", "0004_audit_actions_gdpr")]
    operations = [migrations.RunPython(forward, backward)]
