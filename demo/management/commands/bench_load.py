"""Capacity benchmark (issue 16, point 5): serves the app with gunicorn and production settings
(demo/bench_settings.py: DEBUG off, persistent database connections, plain HTTP on 127.0.0.1)
on the database of DATABASE_URL, logs in N sessions (national and province system administrators,
alternately) and drives, from N threads with bounded loops, three phases of a fixed time each:

- trivial: a view that runs every middleware and no query of its own (the baseline);
- search: type-ahead search (the search box as htmx asks it, letter by letter), and the count
  a first page shown before it was counted asks for (as the browser does, right after it);
- mixed: type-ahead search, page 2 of the result and the card of a relation found.

Per phase it prints requests/s, p50/p95/p99 per kind of request, errors, the largest worker's
memory, and the CPU milliseconds per request of the app processes (gunicorn master and workers)
and of the PostgreSQL backends serving this database, read from /proc before and after the phase.
Results go into docs/benchmarks.md by hand, with the load average it prints."""

from __future__ import annotations

import http.client
import math
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client, override_settings

from tenants.models import User

from .bench_relations import COUNT_URL

DEMO_USERS = ("landelijk.sb", "provincie.sb")
# Fixed, like bench_relations: common, late and dense, and rare terms.
TERMS = ("jan", "olt", "ste", "nge", "mal", "spr", "fsw", "wij", "bak", "ver")
ROW_ID = re.compile(r'data-relation-id="(\d+)"')
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MAX_REQUESTS_PER_USER = 100_000  # the loops end by time; this bounds them anyway


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    app_cpu: float = 0.0
    db_cpu: float = 0.0
    worker_rss: int = 0

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + sum(self.errors.values())


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] * 1000 if ordered else float("nan")


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
                continue
            if parent == pid:
                found.append(int(entry.name))
    return found


class Command(BaseCommand):
    help = "Serve the app with gunicorn and measure it under N concurrent sessions (see the module docstring)."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=30, help="Concurrent sessions (threads).")
        parser.add_argument("--seconds", type=float, default=30.0, help="Duration of each phase.")
        parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes.")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--phases", default="trivial,search,mixed")

    def handle(self, *args, users: int, seconds: float, workers: int, port: int, seed: int, phases: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_load measures PostgreSQL (set DATABASE_URL=postgres://…).")
        if users < 1 or seconds <= 0:
            raise CommandError("--users must be at least 1 and --seconds positive.")
        accounts = list(User.objects.filter(username__in=DEMO_USERS).order_by("username"))
        if len(accounts) != len(DEMO_USERS):
            raise CommandError(f"Load the demo first (seed_demo makes {', '.join(DEMO_USERS)}).")
        # The server signs sessions with its own key: made here with the same one.
        secret_key = secrets.token_urlsafe(40)
        with override_settings(SECRET_KEY=secret_key):
            cookies = [self._session_cookie(accounts[i % len(accounts)]) for i in range(users)]
        self.stdout.write(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT now()")
            self._served_at = cursor.fetchone()[0]
        server = self._serve(port, workers, secret_key)
        try:
            self._wait_ready(port)
            for cookie in cookies:  # the first request stores the session's environment
                self._get(http.client.HTTPConnection("127.0.0.1", port, timeout=60), "/relations/", cookie)
            results = [self._run_phase(name, port, server.pid, cookies, seconds, seed)
                       for name in phases.split(",") if name]
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        self.stdout.write(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        self._report(results, users, workers)

    # --- setting up ---

    def _session_cookie(self, user: User) -> str:
        client = Client()
        client.force_login(user, backend="tenants.backends.TenantRoleBackend")
        return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    def _serve(self, port: int, workers: int, secret_key: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "demo.bench_settings",
            "DEBUG": "0",
            "SECRET_KEY": secret_key,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "300"),
            "LOG_LEVEL": "WARNING",
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn), "ledenbeheer.wsgi", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                   "--access-logfile", "/dev/null", "--log-level", "warning", "--timeout", "120"]
        return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)  # noqa: S603 (our own command line)

    def _wait_ready(self, port: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/bench/trivial/")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.5)
        raise CommandError("gunicorn did not answer within 60 s.")

    def _get(self, conn: http.client.HTTPConnection, path: str, cookie: str, htmx: bool = False) -> tuple[int, str]:
        headers = {"Cookie": cookie, "Host": "127.0.0.1"}
        if htmx:
            headers["HX-Request"] = "true"
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")

    # --- measuring ---

    def _db_backends(self) -> list[int]:
        """The backends of this database opened since the server started: gunicorn's, not those
        of anything else using the same database."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_start >= %s", [self._served_at],
            )
            return [row[0] for row in cursor.fetchall()]

    def _run_phase(self, name: str, port: int, master: int, cookies: list[str], seconds: float, seed: int) -> Phase:
        phase = Phase(name)
        app_pids = [master, *_children(master)]
        app_before = {pid: _cpu_seconds(pid) for pid in app_pids}
        db_before = {pid: _cpu_seconds(pid) for pid in self._db_backends()}
        lock = threading.Lock()
        deadline = time.monotonic() + seconds
        began = time.monotonic()

        def user(index: int, cookie: str) -> None:
            rng = random.Random(seed * 1000 + index)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

            def timed(kind: str, path: str, htmx: bool = False) -> str:
                nonlocal conn
                start = time.perf_counter()
                try:
                    status, body = self._get(conn, path, cookie, htmx)
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    status, body = 0, ""
                elapsed = time.perf_counter() - start
                with lock:
                    if status == 200:
                        phase.latencies[kind].append(elapsed)
                    else:
                        phase.errors[kind] += 1
                return body

            for _ in range(MAX_REQUESTS_PER_USER):
                if time.monotonic() >= deadline:
                    break
                if name == "trivial":
                    timed("trivial", "/bench/trivial/")
                    continue
                term = rng.choice(TERMS)
                body = ""
                for length in range(2, len(term) + 1):  # letter by letter, as the search box asks
                    body = timed("search", f"/relations/?{urlencode({'q': term[:length]})}", htmx=True)
                    count_url = COUNT_URL.search(body)
                    if count_url and time.monotonic() < deadline:
                        timed("count", count_url.group(1).replace("&amp;", "&"), htmx=True)
                if name == "mixed" and time.monotonic() < deadline:
                    timed("page 2", f"/relations/?{urlencode({'q': term, 'page': 2})}", htmx=True)
                    ids = ROW_ID.findall(body)
                    if ids and time.monotonic() < deadline:
                        timed("card", f"/relations/{rng.choice(ids)}/")
            conn.close()

        threads = [threading.Thread(target=user, args=(i, c), daemon=True) for i, c in enumerate(cookies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 120)
        phase.seconds = time.monotonic() - began
        app_pids = [master, *_children(master)]
        phase.app_cpu = sum(_cpu_seconds(pid) - app_before.get(pid, 0.0) for pid in app_pids)
        phase.worker_rss = max((_rss_bytes(pid) for pid in app_pids if pid != master), default=0)
        db_after = self._db_backends()
        phase.db_cpu = sum(_cpu_seconds(pid) - db_before.get(pid, 0.0) for pid in db_after)
        self.stdout.write(f"phase {name}: {phase.requests} requests in {phase.seconds:.1f} s, "
                          f"load average {os.getloadavg()[0]:.2f}")
        return phase

    def _report(self, phases: list[Phase], users: int, workers: int) -> None:
        self.stdout.write(f"\n{users} sessions, {workers} gunicorn workers")
        header = (f"{'phase':<8} {'kind':<8} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
                  f"{'errors':>6} {'app CPU ms/req':>14} {'PG CPU ms/req':>13} {'worker MiB':>10}")
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for phase in phases:
            # A count request belongs to the search that asked for it: CPU per search includes it.
            total = max(1, phase.requests - len(phase.latencies.get("count", [])) - phase.errors.get("count", 0))
            app_ms, db_ms = phase.app_cpu * 1000 / total, phase.db_cpu * 1000 / total
            for kind in sorted(set(phase.latencies) | set(phase.errors)):
                values = phase.latencies[kind]
                count = len(values) + phase.errors[kind]
                self.stdout.write(
                    f"{phase.name:<8} {kind:<8} {count:>8} {count / phase.seconds:>7.1f} {_percentile(values, 0.5):>8.1f} "
                    f"{_percentile(values, 0.95):>8.1f} {_percentile(values, 0.99):>8.1f} {phase.errors[kind]:>6} "
                    f"{app_ms:>14.1f} {db_ms:>13.1f} {phase.worker_rss / 2**20:>10.0f}"
                )
        self.stdout.write("CPU per request is the phase's total over all its requests (every kind), a count request "
                          "counted as part of the search that asked for it.")
