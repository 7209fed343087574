"""Paging relation searches over a million relations.

A plain Paginator counts every match (`COUNT(*)`) and lets PostgreSQL walk the name index hoping
to meet a page of matches early; both are slow for a rare search term, for a term whose matches
lie late in the alphabet, and for a filter matching most of the federation (docs/benchmarks.md).
Instead one query reads at most CAP + 1 matches, in no particular order — PostgreSQL answers it
from the trigram index for a term, and stops early for a common one — and, in the same query,
counts them and sorts them to pick the page:

- at most CAP matches: the count is exact and the page is right; the page's rows are then read by
  primary key (one more query, plus what `prepare` prefetches);
- more: the count is shown as "more than CAP" and the page comes from the name-ordered walk,
  which finds a page quickly exactly because matches are common. The walk only picks the page's
  ids (a subquery the covering name index answers on its own, `relation_name_order`); the rows
  themselves are then fetched by primary key, in the same query.

The relation list asks for a cheaper first try (`probe=`, name order, first pages only),
because reading CAP matches to count them costs a dense term more than the page itself:

- the same query, but reading at most PROBE matches: a term with at most PROBE matches gets its
  exact count and page from it (a rare term: one query for the ids);
- more: a walk of the name index that stops at the WALK-th name the user may see (a bound read
  once per WALK_BOUND_SECONDS: any bound gives the right page, the first matches in name order lie
  before it; it only decides how far the walk may go). A dense term fills its page within it and the
  count shows as "more than PROBE";
- a page not filled within the bound (matches late in the alphabet, or few): the way above.

A search of only a letter or two (`uncounted`, what the search box sends while someone starts
typing) walks first: such a search matches a large share of the cards, the walk fills its page
at once, and the page says "more than" the matches so far. Counting up to PROBE of them cost the
database more than the page itself, for a number nobody reads while still typing. A page the
walk does not fill is counted as above.

For a search of the search box alone (`words`), a sample of the names the walk would read (every
SAMPLE_STEP-th of the first WALK, read with the bound) says beforehand how the walk will fare:

- the sample holds enough matches to fill the page: the walk comes first and the page is shown
  without its count (`count_later`); the relation list then asks for the count in a request of its
  own (`search_count`), so that the rows of a common term come as fast as the walk finds them;
- the sample holds (almost) none: a walk within the bound would not fill the page, so neither the
  probe nor the walk is tried: the matches are sorted at once (the way above), which reads what the
  probe would for a rare term, and saves the probe for a term with more matches than PROBE.

The sample only chooses the order of the tries: every page is the same whichever way it came.
"""

from __future__ import annotations

import bisect
import functools
import re
import time
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThanOrEqual
from django.db.models.functions import Coalesce

from .text import word_patterns

CAP = 10_000
# The first, cheaper try of the relation list (see the module docstring).
PROBE = 1_000
WALK = 20_000
WALK_BOUND_SECONDS = 600.0
# Every SAMPLE_STEP-th of the first WALK names is kept with the bound, to foresee the walk.
SAMPLE_STEP = 10
# The walk comes first when the sample foresees this many times the matches the page needs ...
WALK_FIRST_MARGIN = 1.6
# ... and is not tried after the count when it foresees fewer than this share of them.
WALK_HOPELESS_SHARE = 0.5
# The name order the walk follows: the partial index `relation_name_order` (relations/models.py).
NAME_ORDER = ("last_name", "first_name", "number")


@dataclass
class SearchPage:
    page: Page
    count: int
    capped: bool
    # Not counted yet: the page came from the walk; `search_count` counts (the list asks it later).
    count_later: bool = False


def _unindexed(ordering: list[str], db: str) -> list:
    """`ordering` for sorting a handful of rows fetched by primary key. On PostgreSQL each field
    becomes COALESCE(field, field): the same order, but one no index serves, so PostgreSQL fetches
    the ids by primary key and sorts them instead of walking the whole name index looking for
    them (seconds when they cluster at the end of the alphabet)."""
    if connections[db].vendor != "postgresql":
        return list(ordering)
    sort = []
    for field in ordering:
        name = field.lstrip("-")
        expression = Coalesce(F(name), F(name))
        sort.append(expression.desc() if field.startswith("-") else expression.asc())
    return sort


class _WalkedPage:
    """What the paginator slices for a search with many matches: the page's ids come from the
    walk in `ordered`'s order (a subquery), the rows by primary key, sorted again."""

    ordered = True

    def __init__(self, ordered: QuerySet, sort: list, prepare):
        self.walk, self.sort, self.prepare = ordered, sort, prepare

    def __getitem__(self, window: slice) -> QuerySet:
        page_ids = self.walk.values("pk")[window]
        return self.prepare(self.walk.model.objects.filter(pk__in=page_ids).order_by(*self.sort))


class _SortedPage:
    """What the paginator slices for a search with at most CAP matches: the ids of the page, as
    the counting query sorted them, read by primary key.

    `order_key` names the order `sort` gives (None when it depends on the search: a term put
    first). With it, a `prepare` that has `by_ids(ids, build, order_key)` reads the page itself,
    from `build(ids)` — the same query for every page of that order, whose SQL it may keep."""

    ordered = True

    def __init__(self, model, page_ids: list[int], sort: list, prepare, order_key=None):
        self.model, self.page_ids, self.sort, self.prepare = model, page_ids, sort, prepare
        self.order_key = order_key

    def __getitem__(self, window: slice) -> QuerySet:
        by_ids = getattr(self.prepare, "by_ids", None)
        if by_ids is not None and self.order_key is not None:
            return by_ids(self.page_ids, self._build, self.order_key)
        return self.prepare(self.model.objects.filter(pk__in=self.page_ids).order_by(*self.sort))

    def _build(self, ids) -> QuerySet:
        return self.model.objects.filter(pk__in_list=ids).order_by(*self.sort)


def _page_number(page_number) -> int:
    try:
        return max(1, int(page_number))
    except (TypeError, ValueError):
        return 1


def _sorted_matches(
    matches: QuerySet, ordering: list[str], first: Q | None, number: int, per_page: int, cap: int | None = None
):
    """One query: at most `cap` (default CAP) + 1 matches, how many there are, and the ids of page `number` among
    them in `ordering` (the ones meeting `first` ahead). Returns (count, ids of the page)."""
    keys = {"_pk": F("pk")}
    order = []
    if first is not None:
        keys["_first"] = Case(When(first, then=Value(0)), default=Value(1))
        order.append('"_first"')
    for i, field in enumerate(ordering):
        keys[f"_k{i}"] = F(field.lstrip("-"))
        order.append(f'"_k{i}" {"DESC" if field.startswith("-") else "ASC"}')
    inner = matches.order_by().annotate(**keys).values_list(*keys)[: (CAP if cap is None else cap) + 1]
    compiled = _compiled_or_none(inner)
    if compiled is None:  # a search that can find nothing (queryset.none())
        return None, []
    sql, params = compiled
    connection = connections[matches.db]
    query = (
        f'SELECT "_pk", COUNT(*) OVER () FROM ({sql}) matches '  # noqa: S608 (Django's own SQL)
        f"ORDER BY {', '.join(order)} LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, (*params, per_page, (number - 1) * per_page))
        rows = cursor.fetchall()
    if rows:
        return rows[0][1], [row[0] for row in rows]
    return None, []


class _NameSample:
    """The WALK-th name of what the user may see (the walk's bound; None when there are fewer), and
    the search text of every SAMPLE_STEP-th name before it, one per line of `lines`."""

    def __init__(self, bound: tuple | None, texts: list[str]):
        self.bound = bound
        self.lines = "\n".join(text.replace("\n", " ") for text in texts)
        self.starts = [0]
        for text in texts[:-1]:
            self.starts.append(self.starts[-1] + len(text) + 1)

    def expected(self, words: list[str], enough: float) -> float:
        """How many matches of `words` (all of them, as the search box finds them) a walk up to the
        bound should meet, judged by the sample; counting may stop at `enough`."""
        found: set[int] | None = None
        for word in words:
            lines: set[int] = set()
            for hit in _line_regex(word_patterns(word)).finditer(self.lines):
                lines.add(bisect.bisect_right(self.starts, hit.start()) - 1)
                if len(words) == 1 and len(lines) * SAMPLE_STEP >= enough:
                    break
            found = lines if found is None else found & lines
            if not found:
                return 0
        return len(found or ()) * SAMPLE_STEP


@functools.lru_cache(maxsize=256)
def _line_regex(patterns: tuple[str, ...]) -> re.Pattern:
    """A regular expression that finds, in texts one per line, the lines any of the LIKE `patterns`
    matches (`%` any text, `_` one character, `\\` escapes the next one)."""
    alternatives = []
    for pattern in patterns:
        tokens, escaped = [], False  # each a piece of regular expression; None for "%"
        for char in pattern:
            if escaped or char not in "\\%_":
                tokens.append(re.escape(char))
                escaped = False
            elif char == "\\":
                escaped = True
            else:
                tokens.append(None if char == "%" else "[^\\n]")
        # An end that is not "%" holds to that end of the line; a "%" there needs no expression.
        start = "" if tokens and tokens[0] is None else "^"
        end = "" if tokens and tokens[-1] is None else "$"
        while tokens and tokens[0] is None:
            tokens.pop(0)
        while tokens and tokens[-1] is None:
            tokens.pop()
        body = "".join("[^\\n]*" if token is None else token for token in tokens)
        alternatives.append(f"{start}{body}{end}")
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.MULTILINE)


_walk_bound: dict[tuple, tuple[float, _NameSample]] = {}
# At most this many environments' samples are kept per process (each SAMPLE_STEP-th of WALK texts).
WALK_BOUNDS_KEPT = 200


def _name_sample(listed: QuerySet) -> _NameSample:
    """The bound and sample of `listed` (what the user may see), read at most once per
    WALK_BOUND_SECONDS for the same `listed`: one query, of the first WALK names in name order."""
    names = listed.order_by(*NAME_ORDER).values_list(*NAME_ORDER, "search_text")[:WALK]
    # The key: what names the rows of `listed` (`rows_key`, set by `visible_to`) or, for another
    # queryset, its SQL (compiling it cost each search 0.2 ms, so it is compiled only when needed).
    rows_key = getattr(listed, "rows_key", None)
    compiled = None
    if rows_key is None:
        compiled = _compiled_or_none(names)
        if compiled is None:
            return _NameSample(None, [])
        sql, params = compiled
        # A list parameter (an array, tenants/lookups.py) as a tuple, to serve as a key.
        key = (listed.db, sql, tuple(tuple(p) if isinstance(p, list) else p for p in params))
    else:
        key = (listed.db, rows_key)
    now = time.monotonic()
    cached = _walk_bound.get(key)
    if cached is not None and now - cached[0] < WALK_BOUND_SECONDS:
        return cached[1]
    compiled = compiled or _compiled_or_none(names)
    if compiled is None:
        return _NameSample(None, [])
    sql, params = compiled
    if len(_walk_bound) >= WALK_BOUNDS_KEPT:
        _walk_bound.clear()
    connection = connections[listed.db]
    quote = connection.ops.quote_name
    order = ", ".join(f"names.{quote(name)}" for name in NAME_ORDER)
    query = (
        f"SELECT * FROM (SELECT names.*, ROW_NUMBER() OVER (ORDER BY {order}) AS name_rank "  # noqa: S608 (Django's own SQL)
        f"FROM ({sql}) names) numbered WHERE name_rank %% %s = 0 OR name_rank = %s ORDER BY name_rank"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, (*params, SAMPLE_STEP, WALK))
        rows = cursor.fetchall()
    last = rows[-1] if rows else None
    bound = tuple(last[: len(NAME_ORDER)]) if last is not None and last[-1] == WALK else None
    sample = _NameSample(bound, [row[len(NAME_ORDER)] or "" for row in rows])
    _walk_bound[key] = (now, sample)
    return sample


def _compiled_or_none(queryset: QuerySet) -> tuple[str, tuple] | None:
    """The SQL and parameters of `queryset`; None for one that can find nothing."""
    try:
        return queryset.query.sql_with_params()
    except EmptyResultSet:
        return None


def _bounded_walk(
    matches: QuerySet, bound: tuple | None, number: int, per_page: int, sort: list, prepare, *, more: bool = False
) -> list | None:
    """The rows of page `number` in name order when the walk of the name index up to `bound` (the
    sample's) finds them all; None when it does not (or there is no bound). With `more`, the walk
    must also find a match after the page (which comes along as one row more)."""
    if bound is None:
        return None
    # A row comparison, (last_name, first_name, number) <= bound, that PostgreSQL takes as the end
    # of the index scan; as an expression, so that it follows the table into the subquery below.
    walk = matches.filter(TupleLessThanOrEqual(Tuple(*(F(name) for name in NAME_ORDER)), list(bound)))
    start = (number - 1) * per_page
    wanted = per_page + 1 if more else per_page
    page_ids = walk.order_by(*NAME_ORDER).values("pk")[start: start + wanted]
    rows = list(prepare(matches.model.objects.using(matches.db).filter(pk__in=page_ids).order_by(*sort)))
    return rows if len(rows) == wanted else None


class _Rows:
    """Rows already read, for the paginator to slice."""

    ordered = True

    def __init__(self, rows: list):
        self.rows = rows

    def __getitem__(self, window: slice) -> list:
        return self.rows


def search_page(
    matches: QuerySet, *, ordering: list[str], page_number, per_page: int, prepare, first: Q | None = None,
    probe: QuerySet | None = None, uncounted: bool = False, words: list[str] | None = None,
) -> SearchPage:
    """The page `page_number` of `matches` sorted by `ordering`; `prepare` adds the joins and
    prefetches the page needs to an ordered queryset. Matches that meet `first` (an exact relation
    number or e-mail address) come before the others; with more than CAP matches, where they are
    not all read, the order is `ordering` alone. `probe`, what the user may list (`matches` before
    the search narrowed it): try the cheaper way first (see the module docstring) when it applies:
    name order, nothing to put first, a page within the first PROBE matches. `uncounted` (a search
    of only a letter or two): first the walk alone, which shows a full page as "more than" the
    matches so far without counting them. `words` (the search box's words, when nothing else
    narrows the search): a sample of the names foresees the walk, which then comes first for a
    common term, its page not counted yet (`count_later`), or is left out for a rare one."""
    number = _page_number(page_number)
    if probe is not None and first is None and tuple(ordering) == NAME_ORDER and number * per_page <= PROBE:
        sort = _unindexed(ordering, matches.db)
        # Read when needed only: a search without words that the probe answers does not need it.
        sample = _name_sample(probe) if uncounted or words else None
        # The matches up to the bound the page needs, one more included to know there are more.
        wanted = number * per_page + 1
        expected = sample.expected(words, WALK_FIRST_MARGIN * wanted) if words and not uncounted else None
        hopeless = expected is not None and expected < WALK_HOPELESS_SHARE * wanted
        if uncounted or (expected is not None and expected >= WALK_FIRST_MARGIN * wanted):
            rows = _bounded_walk(matches, sample.bound, number, per_page, sort, prepare, more=True)
            if rows is not None:
                # The page and a match after it: "more than" the pages so far, not counted (a
                # letter or two), or counted in a request of its own (a common term).
                return _page(_Rows(rows[:per_page]), number * per_page, number, per_page, capped=True,
                             count_later=not uncounted)
        # A walk the sample says cannot fill the page is not tried: sorting the matches (below)
        # reads what the probe would, or, past PROBE matches, what it would read next anyway.
        if not hopeless:
            count, page_ids = _sorted_matches(matches, ordering, None, number, per_page, cap=PROBE)
            if count is None and number == 1:
                return _page(_SortedPage(matches.model, [], sort, prepare), 0, number, per_page, capped=False)
            if count is not None and count <= PROBE:
                rows = _SortedPage(matches.model, page_ids, sort, prepare, order_key=(matches.db, tuple(ordering)))
                return _page(rows, count, number, per_page, capped=False)
            if count is not None:
                rows = _bounded_walk(matches, (sample or _name_sample(probe)).bound, number, per_page, sort, prepare)
                if rows is not None:
                    return _page(_Rows(rows), PROBE, number, per_page, capped=True)
    count, page_ids = _sorted_matches(matches, ordering, first, number, per_page)
    if count is None:
        # Nothing found, or past the last page: count, then show the last page.
        count = matches.order_by()[: CAP + 1].count() if number > 1 else 0
        if count:
            number = max(1, min(number, -(-min(count, CAP + 1) // per_page)))
            count, page_ids = _sorted_matches(matches, ordering, first, number, per_page)
            count = count or 0
    capped = count > CAP
    sort = _unindexed(ordering, matches.db)
    if capped:
        rows = _WalkedPage(matches.order_by(*ordering), sort, prepare)
    else:
        order_key = (matches.db, tuple(ordering))
        if first is not None:
            sort, order_key = [Case(When(first, then=Value(0)), default=Value(1)), *sort], None
        rows = _SortedPage(matches.model, page_ids, sort, prepare, order_key=order_key)
    return _page(rows, min(count, CAP), number, per_page, capped=capped)


def _page(rows, count: int, number: int, per_page: int, *, capped: bool, count_later: bool = False) -> SearchPage:
    """The page `number` of `rows`; `count` matches, or more than that when `capped` (then as
    many pages as CAP matches fill may be asked for)."""
    paginator = Paginator(rows, per_page)
    # Known already: the paginator must not count again.
    paginator.count = CAP + 1 if capped else count
    return SearchPage(page=paginator.get_page(number), count=count, capped=capped, count_later=count_later)


def search_count(matches: QuerySet) -> tuple[int, bool]:
    """How many `matches` there are, as the relation list shows it: exactly up to PROBE, or
    "more than PROBE" (then the second value is True). One query, reading at most PROBE + 1."""
    count = matches.order_by()[: PROBE + 1].count()
    return min(count, PROBE), count > PROBE
