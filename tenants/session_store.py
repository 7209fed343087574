"""Django's database sessions (SESSION_ENGINE), read on PostgreSQL with SQL written once instead
of a queryset built on every request: every request of a logged-in user reads its session first,
and the ORM's `get` cost three times what PostgreSQL took (docs/benchmarks.md, issue 16). Other
databases, and saving, ending and clearing sessions, are Django's own."""

from __future__ import annotations

import functools

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

FIELDS = ("session_key", "session_data", "expire_date")


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        model = self.model
        db = router.db_for_read(model)
        connection = connections[db]
        if connection.vendor != "postgresql":
            return super()._get_session_from_db()
        with connection.cursor() as cursor:
            cursor.execute(_read_sql(model, db), [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model.from_db(db, list(FIELDS), row)


@functools.cache
def _read_sql(model, db: str) -> str:
    """The unexpired session of a key: Django's query, in the model's own names."""
    quote = connections[db].ops.quote_name
    key, data, expires = (quote(model._meta.get_field(name).column) for name in FIELDS)
    return (
        f"SELECT {key}, {data}, {expires} FROM {quote(model._meta.db_table)} "  # noqa: S608 (the model's names)
        f"WHERE {key} = %s AND {expires} > %s"
    )
