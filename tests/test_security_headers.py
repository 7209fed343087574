"""The headers every logged-in page carries (issue 12, point 5): a Content-Security-Policy without
inline scripts, no caching of personal data, HSTS with the production settings, no framing, a
Permissions-Policy. And `check --deploy` stays clean with production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_HSTS_PRELOAD=True)
@pytest.mark.parametrize("path", ["/", "/relations/", "/relations/export/csv/", "/accounts/two-factor/"])
def test_it_sends_the_security_headers_on_a_logged_in_page(federation, login, path):
    client = login(federation.province_la)

    response = client.get(path, secure=True)

    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives.get("default-src", [])
    assert directives["frame-ancestors"] == ["'none'"]
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in response.headers["Permissions-Policy"]
    if response.streaming:
        b"".join(response.streaming_content)


def test_it_lets_anonymous_pages_be_cached_but_not_the_login_steps(client):
    assert "no-store" in client.get("/accounts/login/").headers["Cache-Control"]


def test_it_keeps_inline_scripts_and_handlers_out_of_the_templates():
    offenders = []
    for template in (BASE_DIR / "templates").rglob("*.html"):
        text = template.read_text()
        for needle in ("<script>", "onclick=", "onchange=", "onsubmit=", "onload=", "javascript:"):
            if needle in text:
                offenders.append(f"{template.relative_to(BASE_DIR)}: {needle}")
    assert offenders == []


def test_it_passes_check_deploy_with_production_settings():
    # Only what .ci/run passes: the test process's own environment holds switches (such as the
    # browser tests' DJANGO_ALLOW_ASYNC_UNSAFE) that no deployment has.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "DATABASE_URL") if key in os.environ}
    env.update(
        DEBUG="0", SECRET_KEY="k" * 20 + "-a-long-random-production-secret-for-the-check-" + "x" * 20,
        ALLOWED_HOSTS="ledenbeheer.example.org", SITE_URL="https://ledenbeheer.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
