"""Benchmark of the relation pages at federation scale (issue 3, "Performance"): loads demo
relations when there are fewer than asked, then times the search, a column filter, "member on
date X" and the relation card through Django's test client, as the national and a province
system administrator. Results go into docs/benchmarks.md by hand.

The search is measured per term, from a fixed list (`SEARCH_TERMS`: common, late and dense, and
rare terms), next to the hand-written SQL that returns the same page — its rows in name order,
with the departments column — timed in the same run (the better of two plans, the planner's
choice and a sort of all matches, chosen first and then timed alternately with the app). The app is timed twice per term: the search box's answer (an
htmx request for the results, what every search typed or submitted in a browser asks) and the whole
page (a bookmarked search, or a browser without JavaScript). Per term it prints the p95s and
whether each stays within the target of issue 16: at most 3× the SQL, or at most 15 ms more where
the SQL takes under 7 ms.
"""

from __future__ import annotations

import datetime
import math
import os
import random
import re
import statistics
import time
import warnings
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.http import QueryDict
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from demo.relations import populate
from relations.filters import RelationFilter
from relations.models import Relation
from relations.text import search_words, word_patterns
from tenants.middleware import SESSION_TENANT_KEY, default_tenant
from tenants.models import Tenant, User

DEMO_USERS = ("landelijk.sb", "provincie.sb")  # made by seed_demo: national and Gelderland
SQLITE_LIMIT = 50_000
SCENARIOS = ("search", "column filter", "member on date", "relation card")
# Fixed, so that runs compare: common terms spread over the alphabet ("jan", "ste", "olt"), dense
# ones late in the alphabet that a walk of the name index reaches late ("nge", "mal", "spr"),
# rare ones ("fsw", "zoe"), a postcode with its space and a name written as the list shows it.
SEARCH_TERMS = ("jan", "olt", "ste", "nge", "mal", "spr", "fsw", "zoe", "wij", "2665 ra", "jansen, jan")
ROW_ID = re.compile(r'data-testid="relation-row" data-relation-id="(\d+)"')
# The count line of a first page shown before it was counted, which the browser then loads.
COUNT_URL = re.compile(r'data-testid="result-count" hx-get="([^"]+)"')
TARGET_FACTOR, TARGET_EXTRA_MS, TARGET_FAST_SQL_MS = 3.0, 15.0, 7.0
PLAN_TRIES = 5  # runs of each hand-written plan to choose the better one


@dataclass
class Measurement:
    username: str
    scenario: str
    seconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    sql_seconds: list[float] = field(default_factory=list)  # time spent in the database per request
    slowest: tuple[float, str, str] = (0.0, "", "")  # (seconds of one SQL query, the SQL, the URL)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def p95_ms(self) -> float:
        return self.percentile(0.95) * 1000

    @property
    def max_ms(self) -> float:
        return max(self.seconds) * 1000

    @property
    def sql_median_ms(self) -> float:
        return statistics.median(self.sql_seconds) * 1000

    @property
    def queries_text(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(high) if low == high else f"{low}–{high}"


class Command(BaseCommand):
    help = (
        "Time the relation search, a column filter, 'member on date X' and the relation card "
        "(median and p95 server time, SQL queries per page) with --members demo relations. "
        "PostgreSQL; SQLite only with --allow-sqlite and a small number."
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=1_000_000,
                            help="Relations the federation should hold; missing ones are loaded first.")
        parser.add_argument("--requests", type=int, default=50, help="Timed requests per page and user (≥ 50 for the report).")
        parser.add_argument("--warm-up", type=int, default=3, help="Untimed requests per page and user first.")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed of the demo data and the samples.")
        parser.add_argument("--users", default=",".join(DEMO_USERS), help="Comma-separated demo usernames to log in as.")
        parser.add_argument("--allow-sqlite", action="store_true", help=f"Run on SQLite (at most {SQLITE_LIMIT:,} members).")
        parser.add_argument("--explain", action="store_true",
                            help="Print EXPLAIN ANALYZE of the slowest SQL query of each page (PostgreSQL).")
        parser.add_argument("--markdown", action="store_true", help="Also print the results as a Markdown table.")
        parser.add_argument("--terms", default="|".join(SEARCH_TERMS),
                            help="Search terms separated by | to time against hand-written SQL.")
        parser.add_argument("--only-terms", action="store_true",
                            help="Time only the search terms, not the other pages.")

    def handle(self, *args, members: int, requests: int, warm_up: int, seed: int, users: str, allow_sqlite: bool,
               explain: bool, markdown: bool, terms: str, only_terms: bool, **options):
        vendor = connection.vendor
        if vendor != "postgresql":
            if not allow_sqlite:
                raise CommandError(f"bench_relations measures PostgreSQL; this database is {vendor}. "
                                   "Set DATABASE_URL=postgres://… (or pass --allow-sqlite for a small trial).")
            if members > SQLITE_LIMIT:
                raise CommandError(f"On SQLite use at most --members {SQLITE_LIMIT:,}.")
        if requests < 1 or warm_up < 0:
            raise CommandError("--requests must be at least 1 and --warm-up at least 0.")
        usernames = [u.strip() for u in users.split(",") if u.strip()]

        accounts = self._demo_users(usernames)
        started = time.perf_counter()
        added = populate(members, rng_seed=seed, progress=self.stdout.write)
        if added:
            self.stdout.write(f"Loaded {added:,} relations in {time.perf_counter() - started:.0f} s.")
        self._analyze()
        self.stdout.write(
            f"{Relation.objects.count():,} relations, {self._count('memberships_function'):,} functions; "
            f"{requests} timed requests per page after {warm_up} warm-up requests."
        )

        rng = random.Random(seed)
        results: list[Measurement] = []
        # The test client's host, plain HTTP, and static URLs without collectstatic's manifest:
        # none of these changes what a page costs to build.
        plain_static = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, STORAGES=plain_static), \
                warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
            term_results: list[tuple[Measurement, Measurement, Measurement, Measurement, int]] = []
            for user in accounts:
                client = self._client(user)
                tenant = default_tenant(user)
                self._check_ready(client, user)
                # The hand-written SQL of the comparison is PostgreSQL's (string_agg … ORDER BY,
                # = ANY(array)); on SQLite (--allow-sqlite) only the pages are timed.
                for term in [t.strip() for t in terms.split("|") if t.strip()] if connection.vendor == "postgresql" else []:
                    term_results.append(self._measure_term(client, user, tenant, term, requests, warm_up))
                if only_terms:
                    continue
                for scenario, urls in self._urls(user, tenant, rng, requests + warm_up).items():
                    results.append(self._measure(client, user.username, scenario, urls, warm_up))
        self._report_terms(term_results, markdown=markdown)
        if results:
            self._report(results, markdown=markdown)
        if explain:
            self._explain(results)

    # --- setting up ---

    def _demo_users(self, usernames: list[str]) -> list[User]:
        if not User.objects.filter(username__in=usernames).exists():
            self.stdout.write("Demo users missing: running seed_demo first.")
            call_command("seed_demo", stdout=self.stdout)
        found = {u.username: u for u in User.objects.filter(username__in=usernames)}
        missing = [u for u in usernames if u not in found]
        if missing:
            raise CommandError(f"Unknown user(s) {', '.join(missing)}; seed_demo makes {', '.join(DEMO_USERS)}.")
        return [found[u] for u in usernames]

    def _analyze(self) -> None:
        """VACUUM ANALYZE what was loaded: this server may run without autovacuum, and without
        the visibility map a walk of the covering name index reads the table row by row."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for table in ("relations_relation", "memberships_function", "tenants_tenant",
                              "tenants_roleassignment", "relations_customfield"):
                    # VACUUM cannot run inside a transaction (a test's): ANALYZE alone there.
                    verb = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
                    cursor.execute(f"{verb} {connection.ops.quote_name(table)}")
            else:
                cursor.execute("ANALYZE")

    def _count(self, table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (fixed names)
            return cursor.fetchone()[0]

    def _client(self, user: User) -> Client:
        client = Client()
        client.force_login(user, backend="tenants.backends.TenantRoleBackend")
        return client

    def _check_ready(self, client: Client, user: User) -> None:
        """Fail clearly while the relation pages are not built yet."""
        url = reverse("relation_list")
        try:
            response = client.get(url)
        except Exception as error:  # noqa: BLE001 — any failure means the page is not ready
            raise CommandError(f"{url} is not working yet for {user.username}: {type(error).__name__}: {error}") from error
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code} for {user.username}; expected 200.")
        if client.session.get(SESSION_TENANT_KEY) is None:
            raise CommandError(f"{user.username} has no environment to work in.")

    def _urls(self, user: User, tenant: Tenant, rng: random.Random, count: int) -> dict[str, list[str]]:
        """The requests per page, from real data the user can see."""
        visible = Relation.objects.visible_to(user, tenant)
        sample = list(visible.order_by("?").values_list("pk", "last_name", "city")[:max(count, 200)])
        if not sample:
            raise CommandError(f"{user.username} sees no relations in {tenant}; load demo data first.")
        list_url = reverse("relation_list")
        today = datetime.date.today()
        first_day = datetime.date(2008, 1, 1)
        surnames = [name for _pk, name, _city in sample if len(name) >= 3]
        cities = sorted({city for _pk, _name, city in sample if city})
        urls: dict[str, list[str]] = {scenario: [] for scenario in SCENARIOS}
        for i in range(count):
            name = rng.choice(surnames)
            start = rng.randrange(len(name) - 2)
            urls["search"].append(f"{list_url}?q={name[start:start + 3].lower()}")
            urls["column filter"].append(f"{list_url}?col_city={rng.choice(cities)}")
            day = first_day + datetime.timedelta(days=rng.randrange((today - first_day).days))
            urls["member on date"].append(f"{list_url}?member_on={day:%d-%m-%Y}")
            urls["relation card"].append(reverse("relation_detail", args=[sample[i % len(sample)][0]]))
        return urls

    # --- measuring ---

    def _measure(self, client: Client, username: str, scenario: str, urls: list[str], warm_up: int) -> Measurement:
        measurement = Measurement(username, scenario)
        for i, url in enumerate(urls):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(url)
                seconds = time.perf_counter() - began
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code} for {username}.")
            if i < warm_up:
                continue
            measurement.seconds.append(seconds)
            measurement.queries.append(len(captured.captured_queries))
            sql_seconds = 0.0
            for query in captured.captured_queries:
                query_seconds = float(query.get("time") or 0)
                sql_seconds += query_seconds
                if query_seconds > measurement.slowest[0]:
                    measurement.slowest = (query_seconds, query["sql"], url)
            measurement.sql_seconds.append(sql_seconds)
        return measurement

    def _measure_term(self, client: Client, user: User, tenant: Tenant, term: str, requests: int,
                      warm_up: int) -> tuple[Measurement, Measurement, Measurement, Measurement, int]:
        """The app's first page of `term` and the hand-written SQL of the same page, alternately,
        so both meet the same load. Returns (search box, whole page, SQL, count, rows on the page):
        the count is the request a first page shown before it was counted makes for its count
        line (relations/paging.py, count_later), timed after the search box's answer."""
        url = f"{reverse('relation_list')}?{urlencode({'q': term})}"
        app = Measurement(user.username, term)
        page = Measurement(user.username, term)
        sql = Measurement(user.username, term)
        count = Measurement(user.username, term)
        plans = [_handwritten_sql(user, tenant, term, sort) for sort in (False, True)]
        search = RelationFilter(QueryDict(urlencode({"q": term})), tenant=tenant)
        # The better of the two plans is chosen first (PLAN_TRIES runs each, the lower median) and
        # only that one is timed beside the app: the other one (a sort of every match, or a walk
        # of the whole name index) would push the pages both need out of PostgreSQL's buffers
        # between two of the app's requests, and slow the app down for the baseline's sake.
        tries: list[list[float]] = [[], []]
        for _try in range(PLAN_TRIES):
            for plan, timings in zip(plans, tries, strict=True):
                timings.append(_run_sql(plan)[0])
        plan = plans[min(range(len(plans)), key=lambda i: statistics.median(tries[i]))]
        rows = 0
        for i in range(requests + warm_up):
            # What the search box asks while someone types (htmx: the results only), and the
            # whole page (a bookmarked search, or a browser without JavaScript).
            began = time.perf_counter()
            response = client.get(url, headers={"HX-Request": "true"})
            seconds = time.perf_counter() - began
            count_url = COUNT_URL.search(response.content.decode())
            count_seconds = None
            if count_url:
                began = time.perf_counter()
                counted = client.get(count_url.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
                count_seconds = time.perf_counter() - began
                if counted.status_code != 200:
                    raise CommandError(f"The count of “{term}” answered {counted.status_code} for {user.username}.")
            began = time.perf_counter()
            whole = client.get(url)
            page_seconds = time.perf_counter() - began
            if response.status_code != 200 or whole.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code} / {whole.status_code} for {user.username}.")
            page_ids = [int(pk) for pk in ROW_ID.findall(response.content.decode())]
            if i == 0 and page_ids != [int(pk) for pk in ROW_ID.findall(whole.content.decode())]:
                raise CommandError(f"The search box and the page of “{term}” show other rows.")
            sql_seconds, sql_ids = _run_sql(plan)
            if i == 0 and sql_ids != page_ids and search.exact is None:
                raise CommandError(f"The hand-written SQL of “{term}” returns another page than the app.")
            if i >= warm_up:
                app.seconds.append(seconds)
                page.seconds.append(page_seconds)
                sql.seconds.append(sql_seconds)
                if count_seconds is not None:
                    count.seconds.append(count_seconds)
                rows = len(page_ids)
        return app, page, sql, count, rows

    def _report_terms(self, results: list[tuple[Measurement, Measurement, Measurement, Measurement, int]], *,
                      markdown: bool) -> None:
        if not results:
            return
        self.stdout.write("")
        self.stdout.write(f"Search terms, load average {_load()}: the search box's answer (htmx) and the whole page "
                          "against the hand-written SQL of the same page, timed alternately.")
        header = (f"{'user':<14} {'term':<12} {'rows':>4} {'box p95':>8} {'page p95':>8} {'SQL p95':>8} {'ratio':>6} "
                  f"{'box med':>8} {'SQL med':>8} {'count p95':>9}  box / page")
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        lines = []
        for app, page, sql, count, rows in results:
            ratio = app.p95_ms / sql.p95_ms if sql.p95_ms else math.inf
            verdicts = ("met" if _within_target(m.p95_ms, sql.p95_ms) else "MISSED" for m in (app, page))
            verdict = " / ".join(verdicts)
            count_text = f"{count.p95_ms:.1f}" if count.seconds else "—"
            lines.append((app, page, sql, count_text, rows, ratio, verdict))
            self.stdout.write(
                f"{app.username:<14} {app.scenario:<12} {rows:>4} {app.p95_ms:>8.1f} {page.p95_ms:>8.1f} {sql.p95_ms:>8.1f} "
                f"{ratio:>6.1f} {app.median_ms:>8.1f} {sql.median_ms:>8.1f} {count_text:>9}  {verdict}"
            )
        met = sum(1 for *_rest, verdict in lines if verdict.startswith("met"))
        whole = sum(1 for *_rest, verdict in lines if verdict.endswith("met"))
        self.stdout.write(f"Within the target: {met} of {len(lines)} for the search box, {whole} of {len(lines)} for the whole page.")
        if markdown:
            self.stdout.write("\n| user | term | rows | box p95 ms | page p95 ms | SQL p95 ms | ratio (box) | box median | SQL median "
                              "| count p95 ms | target (box / page) |")
            self.stdout.write("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            for app, page, sql, count_text, rows, ratio, verdict in lines:
                self.stdout.write(
                    f"| {app.username} | {app.scenario} | {rows} | {app.p95_ms:.1f} | {page.p95_ms:.1f} | {sql.p95_ms:.1f} | "
                    f"{ratio:.1f}× | {app.median_ms:.1f} | {sql.median_ms:.1f} | {count_text} | {verdict} |"
                )

    def _report(self, results: list[Measurement], *, markdown: bool) -> None:
        self.stdout.write("")
        header = (f"{'user':<14} {'page':<15} {'n':>4} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} "
                  f"{'SQL ms (median)':>16} {'queries':>8}")
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for m in results:
            self.stdout.write(
                f"{m.username:<14} {m.scenario:<15} {len(m.seconds):>4} {m.median_ms:>10.1f} {m.p95_ms:>8.1f} "
                f"{m.max_ms:>8.1f} {m.sql_median_ms:>16.1f} {m.queries_text:>8}"
            )
        if markdown:
            self.stdout.write("\n| user | page | requests | median ms | p95 ms | max ms | SQL ms (median) | SQL queries |")
            self.stdout.write("|---|---|---:|---:|---:|---:|---:|---:|")
            for m in results:
                self.stdout.write(
                    f"| {m.username} | {m.scenario} | {len(m.seconds)} | {m.median_ms:.1f} | {m.p95_ms:.1f} | "
                    f"{m.max_ms:.1f} | {m.sql_median_ms:.1f} | {m.queries_text} |"
                )

    def _explain(self, results: list[Measurement]) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write("EXPLAIN ANALYZE is printed on PostgreSQL only.")
            return
        for m in results:
            seconds, sql, url = m.slowest
            if not sql:
                continue
            self.stdout.write(f"\n== {m.username} / {m.scenario}: slowest query {seconds * 1000:.1f} ms ({url})\n{sql}\n")
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                self.stdout.write("\n".join(row[0] for row in cursor.fetchall()))


def _run_sql(plan: tuple[str, list]) -> tuple[float, list[int]]:
    """Seconds the hand-written query took, and the ids it returned."""
    with connection.cursor() as cursor:
        began = time.perf_counter()
        cursor.execute(*plan)
        found = cursor.fetchall()
        return time.perf_counter() - began, [row[0] for row in found]


def _within_target(app_ms: float, sql_ms: float) -> bool:
    """Issue 16: at most 3× the hand-written SQL, or at most 15 ms more where it takes under 7 ms."""
    return app_ms <= TARGET_FACTOR * sql_ms or (sql_ms < TARGET_FAST_SQL_MS and app_ms <= sql_ms + TARGET_EXTRA_MS)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _handwritten_sql(user: User, tenant: Tenant, term: str, sort_all: bool) -> tuple[str, list]:
    """The first page of `term` for `user` in `tenant` as one hand-written query: the rows in name
    order with the departments column (current memberships in the environment). `sort_all`
    sorts every match instead of letting the planner walk the name index."""
    day = datetime.date.today()
    params: list = []
    where = ["NOT r.archived"]  # the app lists only cards that are not archived
    for word in search_words(term):
        patterns = word_patterns(word)
        where.append("(" + " OR ".join("r.search_text LIKE %s" for _pattern in patterns) + ")")
        params.extend(patterns)
    if not tenant.is_root():
        subtree = list(Tenant.objects.subtree(tenant).values_list("pk", flat=True))
        where.append(
            "(r.tenant_id = ANY(%s) OR r.id IN (SELECT g.relation_id FROM memberships_function g "
            "WHERE g.outside_home AND g.tenant_id = ANY(%s) AND g.start_date <= %s "
            "AND (g.end_date IS NULL OR g.end_date > %s)))"
        )
        params += [subtree, subtree, day, day]
    order = ("r.last_name || '', r.first_name || '', r.number + 0" if sort_all
             else "r.last_name, r.first_name, r.number")
    sql = f"""
        SELECT r.id, r.number, r.kind, r.first_name, r.initials, r.infix, r.last_name,
               r.organisation_name, r.birth_date, r.postcode, r.city,
               (SELECT string_agg(t.name, ', ' ORDER BY t.name, f.id)
                  FROM memberships_function f
                  JOIN memberships_functiontype ft ON ft.id = f.function_type_id
                  JOIN tenants_tenant t ON t.id = f.tenant_id
                 WHERE f.relation_id = r.id AND ft.counts_as_membership AND f.start_date <= %s
                   AND (f.end_date IS NULL OR f.end_date > %s) AND t.path LIKE %s) AS departments
          FROM relations_relation r
         WHERE {" AND ".join(where)}
         ORDER BY {order}
         LIMIT 50"""  # noqa: S608 (fixed text; the values are parameters)
    return sql, [day, day, f"{tenant.path}%", *params]
