"""An optional read replica (DATABASE_REPLICA_URL, docs/scaling.md): the wizards' runs and
exports read their rows from it; every other read and every write stays on the primary.

Only querysets that ask for it go to the replica (`queryset.using(read_alias())`): a wizard grid or
download may lag the primary by the replication delay, which for a list of members is harmless,
while a page that has just saved something always reads it back from the primary.
"""

from __future__ import annotations

from django.conf import settings

PRIMARY = "default"
REPLICA = "replica"


def read_alias() -> str:
    """The database for heavy reads: the replica when one is configured, else the primary."""
    return REPLICA if REPLICA in settings.DATABASES else PRIMARY


class ReplicaRouter:
    """Writes always to the primary (also of rows read from the replica); migrations only there.
    Reads not routed here go where Django sends them: the primary, or the database the related
    row came from (a wizard's prefetches follow its rows to the replica)."""

    def db_for_read(self, model, **hints):
        return None

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY
