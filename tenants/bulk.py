"""Writing many new rows at once (the bulk import): `bulk_insert` is `bulk_create` that on
PostgreSQL takes the keys from the table's sequence first and then sends the rows with one COPY,
instead of one INSERT with an array per column that Django and psycopg build in Python."""

from __future__ import annotations

from django.db import connection, models

COPY_BATCH = 5000
# Fields whose value goes to PostgreSQL as the attribute holds it (get_db_prep_save would return
# it unchanged): text, whole numbers, booleans, keys. Dates only without auto_now.
PLAIN_FIELDS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.ForeignKey)


def _plain(field: models.Field) -> bool:
    if type(field) is models.DateField:
        return not (field.auto_now or field.auto_now_add)
    return isinstance(field, PLAIN_FIELDS)


def bulk_insert(model: type[models.Model], objs: list[models.Model]) -> list[models.Model]:
    """Insert `objs` (new, unsaved instances of `model`) and give them their keys. Like
    `bulk_create`: no save() and no signals; field defaults and `pre_save` (auto_now) apply."""
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_create(objs, batch_size=COPY_BATCH)
    meta = model._meta
    qn = connection.ops.quote_name
    fields = list(meta.concrete_fields)
    columns = ", ".join(qn(field.column) for field in fields)
    plain = [(field, _plain(field)) for field in fields]
    with connection.cursor() as cursor:
        for start in range(0, len(objs), COPY_BATCH):
            chunk = objs[start : start + COPY_BATCH]
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(chunk)],
            )
            for obj, (key,) in zip(chunk, cursor.fetchall(), strict=True):
                setattr(obj, meta.pk.attname, key)
            # Names from the model's metadata, never input; the values go as COPY data.
            with cursor.cursor.copy(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN") as copy:
                for obj in chunk:
                    copy.write_row([
                        getattr(obj, field.attname) if is_plain
                        else field.get_db_prep_save(field.pre_save(obj, True), connection)
                        for field, is_plain in plain
                    ])
            for obj in chunk:
                obj._state.adding = False
                obj._state.db = connection.alias
    return objs
