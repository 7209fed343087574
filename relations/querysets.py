"""Reads of relations, scoped to what a user may see in an environment.

Relations lies below memberships (docs/architecture.md) and knows nothing of functions. Two things
an environment shows depend on them — its guests, and who is a member — and the app that knows
tells them here, from its AppConfig.ready() (memberships/apps.py): `register_guest_source` and
`register_membership_source`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router
from django.db.models import Exists, OuterRef, Q, QuerySet

from tenants.access import may_list
from tenants.compiled import CompiledQueries
from tenants.lookups import Ids
from tenants.models import Tenant

if TYPE_CHECKING:
    from tenants.models import User

    from .models import Relation


# --- the registry -------------------------------------------------------------------------------

GuestSource = Callable[[datetime.date], QuerySet]
"""`source(day)`: rows with a `relation` and a `tenant` foreign key, each making its relation a
guest of that tenant, and of every tenant above it, on `day` (ARCHITECTURE "Tenancy and access":
a function running that day). Rows held in the relation's home or above it may be left out — the
home shows the card there anyway — and should be, so the read stays small: memberships gives
only its functions marked `outside_home`, which a partial index holds."""

_guest_sources: list[GuestSource] = []


def register_guest_source(source: GuestSource) -> None:
    """Let `source` name the guests of every environment (see `GuestSource`)."""
    if source not in _guest_sources:
        _guest_sources.append(source)


@dataclass(frozen=True)
class MembershipSource:
    """Who holds a membership, told by the app that knows.

    `held_on(day, kinds)`: rows with a `relation` and a `tenant` foreign key, one per membership
    held on `day` — of the kinds whose ids are `kinds` when given, else of every kind that counts.
    `kinds()`: a queryset of the kinds that count as a membership; their ids are read along with
    an environment (`EnvironmentScope`) and then sent as a literal list."""

    held_on: Callable[[datetime.date, list[int] | None], QuerySet]
    kinds: Callable[[], QuerySet]


_membership_source: list[MembershipSource] = []


def register_membership_source(source: MembershipSource) -> None:
    """Let `source` say who is a member (there is one definition, so one source)."""
    _membership_source[:] = [source]


def _memberships() -> MembershipSource:
    if not _membership_source:
        raise ImproperlyConfigured("No membership source is registered (the memberships app registers one).")
    return _membership_source[0]


def _guests(day: datetime.date, where: Q, field: str) -> list[QuerySet]:
    """Per guest source, a query of `field` of its rows on `day` that match `where` (to send as a
    subquery or in a union)."""
    return [source(day).filter(where).values(field) for source in _guest_sources]


# --- who may open a relation where ----------------------------------------------------------------
#
# The definition, once: environment E opens the card of relation R for user U when U may list
# relations in E (`may_list_relations`) and one of R's access tenants — its home and the tenants
# where it is a guest today (`access_tenants`) — lies in E's subtree. `Relation.objects.visible_to`
# is that rule for a whole environment at once; `relations.access.relation_opens` for one card;
# `user.has_perm(perm, relation)` asks the access tenants' chains, so it holds a permission when
# some environment that shows the card grants it. tests/relations/test_visibility.py compares them.


def may_list_relations(user: User, tenant: Tenant | None) -> bool:
    """Whether `user` may see the relations of environment `tenant` at all."""
    return may_list(user, tenant, "relations.view_relation")


def access_tenants(relation: Relation, day: datetime.date) -> list[Tenant]:
    """The relation's home and the tenants where it is a guest on `day`: an environment shows the
    card exactly when one of these lies in its subtree."""
    places = _guests(day, Q(relation=relation), "tenant_id")
    return [relation.tenant, *(Tenant.objects.filter(_any_pk(places)) if places else [])]


def _any_pk(subqueries: list[QuerySet]) -> Q:
    """Primary key in any of `subqueries` (at least one)."""
    return reduce(or_, [Q(pk__in=subquery) for subquery in subqueries])


# --- what one environment holds ---------------------------------------------------------------

# Above this many guests they are looked up in a subquery instead of being sent as a list.
GUEST_LIST_LIMIT = 10_000
HOME, GUEST, MEMBERSHIP = 1, 2, 3


@dataclass(frozen=True)
class EnvironmentScope:
    """What one environment holds on one day, read in one query: the ids of its subtree's
    tenants, of its guests (relations homed elsewhere that are guests in the subtree), and of the
    kinds of function that count as a membership. `visible_to` reads it; `members_on` takes it
    back as an argument, so both send PostgreSQL the same literal lists."""

    tenant_id: int
    day: datetime.date
    tenant_ids: list[int]
    guest_ids: list[int]
    membership_kind_ids: list[int]

    @classmethod
    def read(cls, tenant: Tenant, day: datetime.date) -> EnvironmentScope:
        found: dict[int, list[int]] = {HOME: [], GUEST: [], MEMBERSHIP: []}
        db = router.db_for_read(Tenant)
        with connections[db].cursor() as cursor:
            cursor.execute(*_scope_query(db, tenant.path, day))
            for pk, tag in cursor.fetchall():
                found[tag].append(pk)
        return cls(tenant.pk, day, found[HOME], sorted(set(found[GUEST])), found[MEMBERSHIP])


# The query of `EnvironmentScope.read`, compiled once per environment, day and sources: building
# the union of its parts cost the ORM more than PostgreSQL took to answer it (1.6 ms per request of
# a province). The SQL text and its parameters depend on nothing else; the rows are read anew.
_scope_queries = CompiledQueries()


def _scope_query(db: str, path: str, day: datetime.date) -> tuple[str, tuple]:
    def build() -> QuerySet:
        def tagged(queryset, field, tag):
            return queryset.order_by().annotate(tag=models.Value(tag)).values_list(field, "tag")

        where = Tenant.subtree_filter_at(path, "tenant")
        guests = [tagged(rows, "relation_id", GUEST) for rows in _guests(day, where, "relation_id")]
        kinds = tagged(_memberships().kinds(), "pk", MEMBERSHIP)
        return tagged(Tenant.objects.subtree_at(path), "pk", HOME).union(*guests, kinds, all=True)

    return _scope_queries.sql((path, day, tuple(_guest_sources), tuple(_membership_source)), build, db)


class RelationQuerySet(models.QuerySet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._environment_scope: EnvironmentScope | None = None
        self._rows_key: tuple | None = None

    def _clone(self):
        clone = super()._clone()
        clone._environment_scope = self._environment_scope
        return clone

    @property
    def environment_scope(self) -> EnvironmentScope | None:
        """The environment `visible_to` read for this queryset (None for the federation, which
        shows everything without reading): pass it to `members_on` to reuse the read."""
        return self._environment_scope

    @property
    def rows_key(self) -> tuple | None:
        """What `visible_to` returned names its rows by this key (the same key, the same rows:
        what an environment holds today), for a cache of something about them. None for every
        other queryset, also once that one is narrowed (a clone does not keep it)."""
        return self._rows_key

    def listed(self) -> RelationQuerySet:
        """Cards that are not archived (merged into another card, or anonymised)."""
        return self.filter(archived=False)

    def visible_to(self, user: User, tenant: Tenant | None, *, archived: bool = False) -> RelationQuerySet:
        """The relations environment `tenant` shows to `user`: those whose home is in its subtree,
        and its guests — relations with a current function there (ARCHITECTURE "Tenancy and
        access", and the definition above). Past functions keep their rows where they were held
        but do not open the card.

        Archived cards (merged or anonymised) are left out of every list, search and match; only
        the card itself asks for them (`archived=True`), to show an anonymised card or to send a
        merged card's address on to the card it was merged into."""
        if not may_list_relations(user, tenant):
            return self.none()
        # The rows are named by the environment's holdings only when nothing narrowed `self`.
        plain = not self.query.where and not self.query.is_sliced
        relations = self if archived else self.listed()
        if tenant.is_root():
            everything = relations.all()
            everything._rows_key = ("visible", archived, "all") if plain else None
            return everything
        today = datetime.date.today()
        scope = EnvironmentScope.read(tenant, today)
        # Both as literal lists: PostgreSQL then estimates the rows well and combines the tenant
        # index (or the primary key, for the few guests) with the search and function indexes.
        if len(scope.guest_ids) > GUEST_LIST_LIMIT:
            # Very many guests: a subquery (per source) instead of a long list.
            guests = _guests(today, Q(tenant_id__in=scope.tenant_ids), "relation_id")
            visible = relations.filter(Q(tenant_id__in=scope.tenant_ids) | _any_pk(guests))
        elif scope.guest_ids:
            # The guests as one array (tenants/lookups.py): a few hundred parameters per query
            # cost more than the search itself.
            visible = relations.filter(Q(tenant_id__in=scope.tenant_ids) | Q(pk__in_list=Ids(scope.guest_ids)))
        else:
            visible = relations.filter(tenant_id__in=scope.tenant_ids)
        visible._environment_scope = scope
        if plain:
            visible._rows_key = ("visible", archived, tuple(scope.tenant_ids), tuple(scope.guest_ids))
        return visible

    def members_on(
        self, day: datetime.date, tenant: Tenant | None = None, *, scope: EnvironmentScope | None = None
    ) -> RelationQuerySet:
        """Relations holding a membership on `day` (in `tenant`'s subtree when given).

        `scope`, an environment `visible_to` has just read (`queryset.environment_scope`), stands
        for its tenant: the subtree and the membership kinds then go as literal lists, so
        PostgreSQL uses its per-value statistics and, for a common date, walks the name index
        instead of fetching every member of the province (docs/benchmarks.md, run 7)."""
        source = _memberships()
        if scope is not None:
            if tenant is not None and tenant.pk != scope.tenant_id:
                raise ValueError("members_on: the scope was read for another environment.")
            held = source.held_on(day, scope.membership_kind_ids).filter(
                relation=OuterRef("pk"), tenant_id__in=scope.tenant_ids
            )
            return self.filter(Exists(held))
        held = source.held_on(day, None).filter(relation=OuterRef("pk"))
        if tenant is not None:
            held = held.filter(tenant.subtree_filter("tenant"))
        return self.filter(Exists(held))
