"""Finding cards that may be the same person (SPEC R10): the same e-mail address; the same birth
date and a similar name; the same address and a similar name. Names are compared by trigram
similarity, on PostgreSQL by pg_trgm in the database, elsewhere by the same measure computed
here (`similarity` follows pg_trgm's definition, so both give the same pairs).

Each rule reads the cards in one order (birth date, address, e-mail) as a stream and compares
only cards within one group, so a scan of a million cards holds one group in memory at a time."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relations.models import Relation

from .models import DuplicateCandidate

NAME_THRESHOLD = 0.5
CHUNK = 5000

REASONS = {
    "email": _("same e-mail address"),
    "birth_name": _("same birth date, similar name"),
    "address_name": _("same address, similar name"),
}


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams: per word of letters and digits, lower case, padded with two spaces
    in front and one behind."""
    found: set[str] = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return found


def similarity(a: str, b: str) -> float:
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def name_of(first_name: str, infix: str, last_name: str) -> str:
    return " ".join(p for p in (first_name, infix, last_name) if p)


@dataclass
class Pair:
    a: int
    b: int
    score: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, reason: str, score: int) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)
        # A second reason makes the pair more likely than either alone.
        self.score = min(100, max(self.score, score) + (10 if len(self.reasons) > 1 else 0))


def _scope(queryset: QuerySet[Relation]) -> QuerySet[Relation]:
    return queryset.filter(kind="person", merged_into__isnull=True).order_by()


def initials_of(first_name: str, last_name: str) -> tuple[str, str]:
    """First letters of the first name and the surname, lower case: two names compared for
    similarity share at least one of them (a typo in both first letters is not looked for).
    This keeps a birth date's hundreds of cards from being compared each with each."""
    return (first_name[:1].lower(), last_name[:1].lower())


def _pairs_in_group(rows: list[tuple], reason: str, base: int, weight: int, need_name: bool) -> Iterator[tuple[int, int, str, int]]:
    names = [(pk, name, trigrams(name), initials) for pk, name, initials in rows]
    for i, (pk_a, _name_a, ta, ia) in enumerate(names):
        for pk_b, _name_b, tb, ib in names[i + 1 :]:
            if need_name and ia[0] != ib[0] and ia[1] != ib[1]:
                continue
            sim = len(ta & tb) / len(ta | tb) if ta and tb else 0.0
            if need_name and sim < NAME_THRESHOLD:
                continue
            a, b = (pk_a, pk_b) if pk_a < pk_b else (pk_b, pk_a)
            yield a, b, reason, base + round(weight * sim)


def _grouped(queryset: QuerySet[Relation], key_fields: list[str]) -> Iterator[list[tuple]]:
    rows = queryset.order_by(*key_fields, "pk").values_list(*key_fields, "pk", "first_name", "infix", "last_name")
    width = len(key_fields)
    for _key, group in groupby(rows.iterator(chunk_size=CHUNK), key=lambda r: r[:width]):
        members = [(r[width], name_of(*r[width + 1 :]), initials_of(r[width + 1], r[width + 3])) for r in group]
        if len(members) > 1:
            yield members


def find_pairs_python(queryset: QuerySet[Relation]) -> dict[tuple[int, int], Pair]:
    scope = _scope(queryset)
    pairs: dict[tuple[int, int], Pair] = {}

    def keep(found):
        for a, b, reason, score in found:
            pairs.setdefault((a, b), Pair(a, b)).add(reason, score)

    for members in _grouped(scope.exclude(birth_date=None), ["birth_date"]):
        keep(_pairs_in_group(members, "birth_name", 50, 40, need_name=True))
    for members in _grouped(scope.exclude(postcode="").exclude(house_number=None), ["postcode", "house_number"]):
        keep(_pairs_in_group(members, "address_name", 40, 40, need_name=True))
    emails = scope.exclude(email="").annotate(email_l=Lower("email"))
    for members in _grouped(emails, ["email_l"]):
        keep(_pairs_in_group(members, "email", 60, 30, need_name=False))
    return pairs


# The same rules in SQL for PostgreSQL: the cards in scope are copied once into a temporary
# table (id, the three keys, the name) with fresh statistics, so the planner hash-joins each rule's
# groups whatever the scope is; pg_trgm computes the similarity; only pairs travel to Python.
PG_RULES = {
    "birth_name": ("a.birth_date = b.birth_date", "a.birth_date IS NOT NULL", 50, 40, True),
    "address_name": ("a.postcode = b.postcode AND a.house_number = b.house_number",
                     "a.postcode <> '' AND a.house_number IS NOT NULL", 40, 40, True),
    "email": ("a.email = b.email", "a.email <> ''", 60, 30, False),
}
PG_SCOPE_TABLE = "imports_duplicate_scope"


def pg_trgm_available() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def find_pairs_postgresql(queryset: QuerySet[Relation]) -> dict[tuple[int, int], Pair]:
    scope_sql, scope_params = _scope(queryset).values("pk").query.sql_with_params()
    table = Relation._meta.db_table
    pairs: dict[tuple[int, int], Pair] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        # Fixed SQL fragments and the scope's own compiled query; no input is formatted in.
        cursor.execute(f"DROP TABLE IF EXISTS {PG_SCOPE_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {PG_SCOPE_TABLE} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT r.id, r.birth_date, r.postcode, r.house_number, lower(r.email) AS email, "
            f"concat_ws(' ', nullif(r.first_name, ''), nullif(r.infix, ''), nullif(r.last_name, '')) AS name, "
            f"lower(left(r.first_name, 1)) AS first_initial, lower(left(r.last_name, 1)) AS last_initial "
            f"FROM {table} r WHERE r.id IN ({scope_sql})",
            scope_params,
        )
        cursor.execute(f"ANALYZE {PG_SCOPE_TABLE}")
        for reason, (join, where, base, weight, need_name) in PG_RULES.items():
            sql = (
                f"SELECT a.id, b.id, similarity(a.name, b.name) FROM {PG_SCOPE_TABLE} a "  # noqa: S608
                f"JOIN {PG_SCOPE_TABLE} b ON {join} AND a.id < b.id WHERE {where}"
                + (" AND (a.first_initial = b.first_initial OR a.last_initial = b.last_initial)"
                   " AND similarity(a.name, b.name) >= %s" if need_name else "")
            )
            cursor.execute(sql, [NAME_THRESHOLD] if need_name else [])
            for a, b, value in cursor.fetchall():
                pairs.setdefault((a, b), Pair(a, b)).add(reason, base + round(weight * float(value or 0)))
    return pairs


def find_pairs(queryset: QuerySet[Relation]) -> dict[tuple[int, int], Pair]:
    if pg_trgm_available():
        return find_pairs_postgresql(queryset)
    return find_pairs_python(queryset)


def duplicate_scan(*, queryset: QuerySet[Relation]) -> int:
    """Find the pairs among `queryset` and store them: new pairs are added, scores of known
    ones refreshed, pairs no longer found forgotten — except those marked "not a duplicate",
    which stay remembered. Returns the number of open pairs found."""
    pairs = find_pairs(queryset)
    now = timezone.now()
    scope_ids = _scope(queryset).values("pk")
    with transaction.atomic():
        stale = DuplicateCandidate.objects.filter(
            dismissed_at__isnull=True, relation_a__in=scope_ids, relation_b__in=scope_ids
        )
        stale_pairs = set(stale.values_list("relation_a_id", "relation_b_id"))
        gone = stale_pairs - set(pairs)
        for chunk_start in range(0, len(gone), CHUNK):
            chunk = list(gone)[chunk_start : chunk_start + CHUNK]
            condition = Q()
            for a, b in chunk:
                condition |= Q(relation_a_id=a, relation_b_id=b)
            DuplicateCandidate.objects.filter(condition, dismissed_at__isnull=True).delete()
        DuplicateCandidate.objects.bulk_create(
            [DuplicateCandidate(relation_a_id=p.a, relation_b_id=p.b, score=p.score, reasons=p.reasons, found_at=now)
             for p in pairs.values()],
            batch_size=CHUNK, update_conflicts=True, unique_fields=["relation_a", "relation_b"],
            update_fields=["score", "reasons", "found_at"],
        )
    return DuplicateCandidate.objects.open().filter(relation_a__in=scope_ids, relation_b__in=scope_ids).count()


def duplicate_dismiss(*, actor, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """"Not a duplicate": remembered, so later scans do not bring the pair back."""
    candidate.dismissed_at = timezone.now()
    candidate.dismissed_by = actor
    candidate.save(update_fields=["dismissed_at", "dismissed_by"])
    return candidate


def pair_for(*, name: str, email: str, birth_date: datetime.date | None, postcode: str, house_number: int | None,
             other) -> Pair:
    """The scan's rules for one person described and one card (`other`: anything with the card's
    fields): its reasons (none: not a candidate) and score."""
    sim = similarity(name, name_of(other.first_name, other.infix, other.last_name))
    pair = Pair(0, other.pk)
    if email and other.email.lower() == email.lower():
        pair.add("email", 60 + round(30 * sim))
    if birth_date and other.birth_date == birth_date and sim >= NAME_THRESHOLD:
        pair.add("birth_name", 50 + round(40 * sim))
    if postcode and other.postcode == postcode and other.house_number == house_number and sim >= NAME_THRESHOLD:
        pair.add("address_name", 40 + round(40 * sim))
    return pair


def candidates_for(*, queryset: QuerySet[Relation], first_name: str, infix: str, last_name: str,
                   birth_date: datetime.date | None, email: str, postcode: str, house_number: int | None) -> list[tuple[Relation, int, list[str]]]:
    """Cards in `queryset` that may be the person described: the scan's rules for one new
    person, for registrations and imports."""
    name = name_of(first_name, infix, last_name)
    condition = Q(pk__in=[])
    if birth_date:
        condition |= Q(birth_date=birth_date)
    if email:
        condition |= Q(email__iexact=email)
    if postcode and house_number:
        condition |= Q(postcode=postcode, house_number=house_number)
    found = []
    for relation in _scope(queryset).filter(condition)[:200]:
        pair = pair_for(name=name, email=email, birth_date=birth_date, postcode=postcode, house_number=house_number,
                        other=relation)
        if pair.reasons:
            found.append((relation, pair.score, pair.reasons))
    return sorted(found, key=lambda f: -f[1])
