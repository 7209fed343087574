"""The API in a browser: its documentation page renders from our own static files under our
Content-Security-Policy, and a system administrator makes a token, copies it once and revokes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from api.models import ApiToken

from .test_login_and_environments import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_renders_the_api_documentation_without_outside_requests(page: Page, live_server):
    outside = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(live_server.url) else None)
    # Swagger UI is a 1.5 MB script: on a busy machine it takes longer than a page of ours.
    page.goto("/api/v1/docs", wait_until="domcontentloaded", timeout=60_000)
    # Swagger UI built the page from openapi.json: its title and an operation are there. A CSP
    # violation (an inline script, an eval) would be a console error and fail the test.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Ledenbeheer API", timeout=60_000)
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert outside == []


def test_it_makes_shows_once_and_revokes_a_token(page: Page, federation):
    log_in(page, "province_sb")
    page.goto("/api/tokens/")
    page.get_by_role("link", name="Nieuw token").click()
    page.get_by_label("Naam").fill("Eigen administratie")
    page.get_by_label("Lezen en schrijven").check()
    page.get_by_role("button", name="Token maken").click()
    secret = page.get_by_test_id("api-token-secret").locator("code").first.inner_text()
    assert secret.startswith("lb_")
    page.reload()
    expect(page.get_by_test_id("api-token-secret")).to_have_count(0)
    page.get_by_role("button", name="Token intrekken").click()
    expect(page.get_by_text("is ingetrokken")).to_be_visible()
    assert ApiToken.objects.get(name="Eigen administratie").revoked_at is not None
