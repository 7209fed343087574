"""Fixtures of the API tests: tokens of the test federation and a client that sends one."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from tests.factories import make_api_token, make_relation


class ApiClient:
    """The test client with `Authorization: Bearer <secret>` and JSON bodies. It enforces CSRF
    checks like a real server: an API client has no cookie, and must not need one."""

    def __init__(self, secret: str | None, language: str | None = None):
        headers = {}
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        if language:
            headers["Accept-Language"] = language
        self.client = Client(headers=headers, enforce_csrf_checks=True)

    def get(self, path: str, params: dict | None = None):
        return self.client.get(path, params or {})

    def send(self, method: str, path: str, body=None):
        return getattr(self.client, method.lower())(path, body if body is not None else {}, content_type="application/json")


@pytest.fixture
def tokens(federation):
    """Read and write tokens of province 1 and department 1.1, a write token of province 2 (the
    other branch), and a revoked and an expired one of province 1: {name: (token, secret)}."""
    from api.services import token_revoke

    made = {}
    for name, tenant, actor, scope in (
        ("p1_read", federation.province1, federation.province_sb, "read"),
        ("p1_write", federation.province1, federation.province_sb, "write"),
        ("d11_read", federation.department11, federation.province_sb, "read"),
        ("d11_write", federation.department11, federation.province_sb, "write"),
        ("p2_write", federation.province2, federation.province2_sb, "write"),
        ("national_read", federation.national, federation.national_sb, "read"),
        ("revoked", federation.province1, federation.province_sb, "write"),
        ("expired", federation.province1, federation.province_sb, "write"),
    ):
        made[name] = make_api_token(tenant, actor=actor, scope=scope, name=name)
    token_revoke(actor=federation.province_sb, token=made["revoked"][0])
    expired = made["expired"][0]
    expired.expires_on = datetime.date.today() - datetime.timedelta(days=1)
    expired.save(update_fields=["expires_on"])
    return made


@pytest.fixture
def api_client(tokens):
    def _client(name: str | None, language: str | None = None) -> ApiClient:
        return ApiClient(tokens[name][1] if name else None, language)

    return _client


@pytest.fixture
def members(federation):
    """Two members in department 1.1, one in 1.2 and one in 2.1."""
    return {
        "d11a": make_relation(federation.department11, first_name="Anna", last_name="Akkerman", email="anna@example.org"),
        "d11b": make_relation(federation.department11, first_name="Bert", last_name="Bakker"),
        "d12": make_relation(federation.department12, first_name="Cor", last_name="Claassen"),
        "d21": make_relation(federation.department21, first_name="Dirk", last_name="Dekker"),
    }
