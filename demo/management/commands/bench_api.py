"""Benchmark of the API's relation list (issue 18, SPEC L3): a page of 100 relations at a million
relations, p95 ≤ 150 ms. Times GET /api/v1/relations through Django's test client with tokens of
the federation, a province and a department (made here, read scope) — the first page, pages deep
in the cursor walk, and members on today — and, in the same run, the hand-written SQL that reads
the same page, as the baseline. Results go into docs/benchmarks.md by hand."""

from __future__ import annotations

import datetime
import os
import random
import time
import warnings

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from api.services import token_create
from demo.management.commands.bench_relations import Command as RelationsBench
from demo.management.commands.bench_relations import Measurement
from memberships.models import FunctionType
from relations.models import Relation
from tenants.models import Tenant

# (token name, demo user who makes it, environment: None = the user's own)
TOKENS = (
    ("bench federation", "landelijk.sb", None),
    ("bench province", "provincie.sb", None),
    ("bench department", "provincie.sb", "Afdeling Achterhoek"),
)
PAGE = 100
COLUMNS = (
    "id, number, kind, tenant_id, initials, first_name, infix, last_name, organisation_name, gender, birth_date, "
    "email, phone, mobile, street, house_number, house_number_suffix, postcode, city, country, language, "
    "magazine_delivery, extra"
)

# Held today as tenants/periods.py defines it: the end date is the first day it no longer holds.
MEMBER_TODAY = (
    "EXISTS (SELECT 1 FROM memberships_function f WHERE f.relation_id = relations_relation.id "
    "AND f.function_type_id = ANY(%s) AND f.start_date <= %s AND (f.end_date IS NULL OR f.end_date > %s)"
)


class Command(RelationsBench):
    help = (
        "Time a page of 100 relations of the API (first page, deep pages, members on today) per "
        "token, with the hand-written SQL of the same page as the baseline."
    )

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=60, help="Timed requests per scenario.")
        parser.add_argument("--warm-up", type=int, default=5, help="Untimed requests per scenario first.")
        parser.add_argument("--seed", type=int, default=18, help="Seed of the random cursors.")
        parser.add_argument("--markdown", action="store_true", help="Also print a Markdown table.")

    def handle(self, *args, requests: int, warm_up: int, seed: int, markdown: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_api measures PostgreSQL (set DATABASE_URL).")
        self._analyze()
        total = self._count("relations_relation")
        self.stdout.write(f"{total:,} relations; load average {os.getloadavg()[0]:.2f} at start")
        rng = random.Random(seed)
        plain_static = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        results: list[Measurement] = []
        with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, STORAGES=plain_static,
                               API_RATE_LIMIT=10**9), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
            for name, username, environment in TOKENS:
                token, secret = self._token(name, username, environment)
                client = Client(headers={"Authorization": f"Bearer {secret}"})
                tenant_ids = list(Tenant.objects.subtree(token.tenant).values_list("pk", flat=True))
                visible = Relation.objects.filter(tenant_id__in=tenant_ids)
                low, high = visible.order_by("pk").values_list("pk", flat=True)[:1][0], visible.order_by("-pk").values_list("pk", flat=True)[:1][0]
                afters = [rng.randint(low, high) for _ in range(requests + warm_up)]
                today = timezone.localdate().isoformat()
                base = reverse("api-v1:relation_list")
                scenarios = {
                    "first page": ([f"{base}?limit={PAGE}"] * (requests + warm_up), [0] * (requests + warm_up), False),
                    "deep pages": ([f"{base}?limit={PAGE}&cursor={self._cursor(a)}" for a in afters], afters, False),
                    "members today": ([f"{base}?limit={PAGE}&member_on={today}"] * (requests + warm_up), [0] * (requests + warm_up), True),
                }
                for scenario, (urls, cursors, members) in scenarios.items():
                    results.append(self._measure(client, name, f"API {scenario}", urls, warm_up))
                    results.append(self._baseline(name, f"SQL {scenario}", token.tenant, tenant_ids, cursors, members, warm_up))
        self.stdout.write(f"load average {os.getloadavg()[0]:.2f} at end")
        self._report(results, markdown=markdown)
        ApiToken.objects.filter(name__startswith="bench ").update(revoked_at=timezone.now())

    def _token(self, name: str, username: str, environment: str | None) -> tuple[ApiToken, str]:
        user = self._demo_users([username])[0]
        tenant = Tenant.objects.get(name=environment) if environment else user.role_assignments.first().tenant
        new = token_create(actor=user, tenant=tenant, name=name, scope="read",
                           expires_on=timezone.localdate() + datetime.timedelta(days=1))
        return new.token, new.secret

    @staticmethod
    def _cursor(after: int) -> str:
        from api.v1 import _cursor_encode

        return _cursor_encode(after)

    def _baseline(self, name: str, scenario: str, tenant: Tenant, tenant_ids: list[int], afters: list[int],
                  members: bool, warm_up: int) -> Measurement:
        """The same page by hand: one SELECT of the page's rows, keyset on id, with the subtree's
        ids as a literal list (what `visible_to` sends) — the least any code can do."""
        measurement = Measurement(name, scenario)
        where, params = ["id > %s"], []
        if not tenant.is_root():
            where.append("tenant_id = ANY(%s)")
        if members:
            kinds = list(FunctionType.objects.memberships().values_list("pk", flat=True))
            where.append(MEMBER_TODAY + (" AND f.tenant_id = ANY(%s))" if not tenant.is_root() else ")"))
        sql = f"SELECT {COLUMNS} FROM relations_relation WHERE {' AND '.join(where)} ORDER BY id LIMIT {PAGE + 1}"  # noqa: S608
        today = timezone.localdate()
        for i, after in enumerate(afters):
            params = [after]
            if not tenant.is_root():
                params.append(tenant_ids)
            if members:
                params += [kinds, today, today] + ([tenant_ids] if not tenant.is_root() else [])
            began = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
            seconds = time.perf_counter() - began
            if not rows:
                raise CommandError(f"{scenario} for {name} found nothing.")
            if i >= warm_up:
                measurement.seconds.append(seconds)
                measurement.sql_seconds.append(seconds)
                measurement.queries.append(1)
        return measurement
