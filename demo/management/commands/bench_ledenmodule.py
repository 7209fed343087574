"""Benchmark of the ledenmodule's member list (issue 7, wish list 001 "faster"): times the list,
a search in it and the former members as the demo department administrator (afdeling.la,
Afdeling Achterhoek) through Django's test client. Load members first with
`seed_demo --members N`. Results go into docs/benchmarks.md by hand."""

from __future__ import annotations

import warnings

from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from demo.management.commands.bench_relations import Command as RelationsBench
from demo.management.commands.bench_relations import Measurement

USER = "afdeling.la"


class Command(RelationsBench):
    help = (
        "Time the ledenmodule member list, a search in it and the former members (median and p95 "
        "server time, SQL queries per page) as the demo department administrator."
    )

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=50, help="Timed requests per page.")
        parser.add_argument("--warm-up", type=int, default=3, help="Untimed requests per page first.")
        parser.add_argument("--markdown", action="store_true", help="Also print a Markdown table.")

    def handle(self, *args, requests: int, warm_up: int, markdown: bool, **options):
        user = self._demo_users([USER])[0]
        base = reverse("ledenmodule_member_list")
        pages = {"member list": base, "search": f"{base}?q=a", "former members": f"{base}?former=1"}
        plain_static = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        results: list[Measurement] = []
        with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, STORAGES=plain_static), \
                warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
            client = self._client(user)
            for scenario, url in pages.items():
                results.append(self._measure(client, USER, scenario, [url] * (requests + warm_up), warm_up))
        self._report(results, markdown=markdown)
