"""Shared fixtures: the test federation, a user for every role at every level, logging in."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import translation

from tenants.models import Tenant, User

from .factories import UserFactory, give_role, make_tenant_tree

PASSWORD = "correct-horse-battery"
AUTH_BACKEND = "tenants.backends.TenantRoleBackend"

# role key → (role code, tenant key in the tree)
ROLE_USERS = {
    "national_sb": ("national_system_administrator", "national"),
    "national_la": ("national_member_administrator", "national"),
    "province_sb": ("province_system_administrator", "province1"),
    "province_la": ("province_member_administrator", "province1"),
    "department_la": ("department_member_administrator", "department11"),
}


@dataclass
class Federation:
    tenants: dict[str, Tenant]
    users: dict[str, User] = field(default_factory=dict)

    def __getattr__(self, name: str):
        tenants = self.__dict__.get("tenants", {})
        if name in tenants:
            return tenants[name]
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "http://testserver"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Rate limits and throttles count in the cache: every test starts with none counted.
    cache.clear()
    # Every test starts in Dutch: a request of an earlier test in this thread (a language cookie
    # of "en") leaves its language active after it, as the middleware activates it per request.
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def federation(db) -> Federation:
    """National, 2 provinces, 2 departments each; a user for every role, homed where the role
    is; a user of province 2 (the other branch) and an outsider without any role."""
    fed = Federation(make_tenant_tree())
    for key, (role_code, tenant_key) in ROLE_USERS.items():
        user = UserFactory(username=key, tenant=fed.tenants[tenant_key])
        give_role(user, fed.tenants[tenant_key], role_code)
        fed.users[key] = user
    other = UserFactory(username="province2_sb", tenant=fed.province2)
    give_role(other, fed.province2, "province_system_administrator")
    fed.users["province2_sb"] = other
    fed.users["department21_la"] = UserFactory(username="department21_la", tenant=fed.department21)
    give_role(fed.users["department21_la"], fed.department21, "department_member_administrator")
    fed.users["outsider"] = UserFactory(username="outsider", tenant=None)
    return fed


@pytest.fixture
def login(client):
    """Log a user in on the test client (the way a session would after a real login)."""

    def _login(user: User):
        client.force_login(user, backend=AUTH_BACKEND)
        return client

    return _login


@pytest.fixture
def migrate_to(transactional_db):
    """`migrate_to(targets)` migrates the test database to `targets` (a list of (app, migration))
    and returns the apps of that state, for tests of a data migration; afterwards the database is
    migrated forward to the latest migrations again, whatever the test did."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def _migrate(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    yield _migrate
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.fixture(scope="session", autouse=True)
def _no_https_redirect():
    with override_settings(SECURE_SSL_REDIRECT=False):
        yield
