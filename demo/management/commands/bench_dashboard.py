"""Benchmark of the dashboard (issue 17): the start page, each of its widgets and the membership
flow over 10 seasons, as the national and a province system administrator, through Django's test
client; beside them, in the same run, the baseline the counts table replaces — the members of
the whole federation today and a year ago counted from the functions themselves (hand-written
SQL) — and a check that the table gives the same number. Build the counts first
(`run_job membership_counts`). Results go into docs/benchmarks.md by hand; every line carries the
load average of the moment, because the machine may be shared."""

from __future__ import annotations

import datetime
import os
import statistics
import time
import warnings

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard.counts import stored_pairs
from dashboard.reports import member_figures
from demo.management.commands.bench_relations import DEMO_USERS, Measurement
from demo.management.commands.bench_relations import Command as RelationsBench
from memberships.models import Function
from tenants.models import Tenant
from tenants.widgets import widgets

# The members of the federation on a day, straight from the rows: what the widget would cost
# without the counts table (the one definition of "current", tenants/periods.py: started, and
# the end date — the first day it no longer holds — empty or later).
BASELINE_SQL = """
    SELECT count(*) FROM memberships_function f
    JOIN memberships_functiontype t ON t.id = f.function_type_id
    WHERE t.counts_as_membership AND f.start_date <= %s AND (f.end_date IS NULL OR f.end_date > %s)
"""


def _load() -> str:
    return "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())


class Command(RelationsBench):
    help = "Time the dashboard, its widgets and the membership flow over 10 seasons (median, p95, queries)."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=40, help="Timed requests per page.")
        parser.add_argument("--warm-up", type=int, default=3, help="Untimed requests per page first.")
        parser.add_argument("--users", default=",".join(DEMO_USERS))

    def handle(self, *args, requests: int, warm_up: int, users: str, **options):
        if not stored_pairs():
            raise CommandError("The counts are not built: run `manage.py run_job membership_counts` first.")
        today = timezone.localdate()
        self.stdout.write(f"{datetime.datetime.now():%Y-%m-%d %H:%M} — functions: {self._count('memberships_function'):,}")
        self._baseline(today, requests)
        plain_static = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        first = today.year - 9
        pages = {
            # The floor under the machine's load: a small page of the same site (a form, no data).
            "baseline: password page": (reverse("password_change"), {}),
            "start page": (reverse("home"), {}),
            **{f"widget {w.key}": (reverse("dashboard_widget", kwargs={"key": w.key}), {"HTTP_HX_REQUEST": "true"})
               for w in widgets()},
            "flow 10 seasons": (f"{reverse('dashboard_flow')}?first={first}&last={today.year}&by=province", {}),
            "flow CSV": (f"{reverse('dashboard_flow_export', kwargs={'fmt': 'csv'})}?first={first}", {}),
        }
        rows = []
        with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, STORAGES=plain_static), \
                warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
            for user in self._demo_users(users.split(",")):
                client = self._client(user)
                client.get(reverse("home"))
                for scenario, (url, headers) in pages.items():
                    measurement = self._timed(client, user.username, scenario, url, headers, requests, warm_up)
                    if measurement is not None:
                        rows.append((measurement, _load()))
        self.stdout.write("\n| user | page | requests | median ms | p95 ms | SQL ms (median) | SQL queries | load average (1/5/15 min) |")
        self.stdout.write("|---|---|---:|---:|---:|---:|---:|---|")
        for m, load in rows:
            self.stdout.write(f"| {m.username} | {m.scenario} | {len(m.seconds)} | {m.median_ms:.1f} | {m.p95_ms:.1f} | "
                              f"{m.sql_median_ms:.1f} | {m.queries_text} | {load} |")

    def _timed(self, client, username, scenario, url, headers, requests, warm_up) -> Measurement | None:
        response = client.get(url, **headers)
        if response.status_code == 200 and not getattr(response, "streaming", False) and not response.content:
            return None  # a widget that is not for this user
        measurement = Measurement(username, scenario)
        for i in range(requests + warm_up):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(url, **headers)
                if getattr(response, "streaming", False):
                    b"".join(response.streaming_content)
                seconds = time.perf_counter() - began
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code} for {username}.")
            if i >= warm_up:
                measurement.seconds.append(seconds)
                measurement.queries.append(len(captured.captured_queries))
                measurement.sql_seconds.append(sum(float(q.get("time") or 0) for q in captured.captured_queries))
        return measurement

    def _baseline(self, today: datetime.date, requests: int) -> None:
        national = Tenant.objects.get(depth=1)
        year_ago = today.replace(year=today.year - 1) if (today.month, today.day) != (2, 29) else today.replace(year=today.year - 1, day=28)
        times = []
        with connection.cursor() as cursor:
            for _ in range(max(5, requests // 4)):
                began = time.perf_counter()
                cursor.execute(BASELINE_SQL, [today, today])
                now = cursor.fetchone()[0]
                cursor.execute(BASELINE_SQL, [year_ago, year_ago])
                cursor.fetchone()
                times.append(time.perf_counter() - began)
        times.sort()
        p95 = times[max(0, int(0.95 * len(times) + 0.999) - 1)] * 1000
        self.stdout.write(
            f"Baseline, hand-written SQL on the raw rows (members today and a year ago, national): "
            f"median {statistics.median(times) * 1000:.1f} ms, p95 {p95:.1f} ms over {len(times)} runs; load {_load()}"
        )
        began = time.perf_counter()
        figures = member_figures(national, today=today)
        took = (time.perf_counter() - began) * 1000
        by_queryset = Function.objects.memberships_held_on(figures.day).count()
        self.stdout.write(
            f"Counts table: members on {figures.day} = {figures.now:,} in {took:.1f} ms; counted from the rows "
            f"(memberships_held_on): {by_queryset:,}; raw SQL today: {now:,} — "
            f"{'equal' if figures.now == by_queryset else 'DIFFERENT'}; load {_load()}"
        )
