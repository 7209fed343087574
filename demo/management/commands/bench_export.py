"""The CSV export of a relation search (issue 16, point 7): streams the export of the search
`--query` through Django's test client as a demo administrator and prints the rows, the wall time,
the CPU seconds of this process (Django, the ORM and the CSV writer) and of the PostgreSQL backend
serving it (from /proc), and rows per CPU second. Target: at least 50,000 rows per second of the
app's CPU. Results go into docs/benchmarks.md by hand, with the load average it prints."""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from tenants.models import User

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, PermissionError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Command(BaseCommand):
    help = "Time the CSV export of a relation search (rows per CPU second of the app and of PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--user", default="provincie.sb")
        parser.add_argument("--query", default="", help="The search box (empty: the whole environment).")
        parser.add_argument("--runs", type=int, default=3)

    def handle(self, *args, user: str, query: str, runs: int, **options):
        account = User.objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"No user {user}: load the demo first.")
        client = Client()
        client.force_login(account, backend="tenants.backends.TenantRoleBackend")
        url = f"{reverse('relation_export', args=['csv'])}?{urlencode({'q': query})}"
        plain_static = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        self.stdout.write(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, STORAGES=plain_static):
            client.get(reverse("relation_list"))
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend = cursor.fetchone()[0]
            for run in range(1, runs + 1):
                db_before, cpu_before, wall_before = _backend_cpu(backend), time.process_time(), time.perf_counter()
                response = client.get(url)
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code}.")
                size = rows = 0
                for chunk in response.streaming_content:
                    size += len(chunk)
                    rows += chunk.count(b"\r\n")
                rows -= 1  # the header
                cpu = time.process_time() - cpu_before
                wall = time.perf_counter() - wall_before
                db = _backend_cpu(backend) - db_before
                self.stdout.write(
                    f"run {run}: {rows:,} rows, {size / 2**20:.1f} MiB in {wall:.2f} s; app CPU {cpu:.2f} s "
                    f"({rows / cpu:,.0f} rows per CPU second), PostgreSQL CPU {db:.2f} s; "
                    f"load average {os.getloadavg()[0]:.2f}"
                )
