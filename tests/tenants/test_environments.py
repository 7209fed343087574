"""The environment switcher, the banners on every page, and the interface language."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from tenants.context_processors import URLS
from tenants.models import AuditEvent, RoleAssignment, Tenant, TenantKind
from tenants.services import role_assignment_end, tenant_create

pytestmark = pytest.mark.django_db

CURRENT = b'data-testid="current-environment">'
LOOKING_ALONG = b'data-testid="looking-along-banner"'
ENVIRONMENT_BANNER = b'data-testid="environment-banner"'


def current_environment(response) -> bytes | None:
    content = response.content
    start = content.find(CURRENT)
    if start < 0:
        return None
    start += len(CURRENT)
    return content[start : content.index(b"<", start)]


# --- the home page -----------------------------------------------------------------------------


def test_it_starts_in_the_highest_environment_of_the_user(federation, login):
    response = login(federation.province_sb).get("/")

    assert response.status_code == 200
    assert current_environment(response) == b"Provincie 1"
    assert LOOKING_ALONG not in response.content


def test_it_lists_the_environments_directly_below_on_the_home_page(federation, login):
    response = login(federation.province_sb).get("/")

    assert [t.name for t in response.context["children"]] == ["Afdeling 1.1", "Afdeling 1.2"]


def test_it_shows_no_environment_to_a_user_without_a_role(federation, login):
    response = login(federation.outsider).get("/")

    assert response.status_code == 200
    assert current_environment(response) is None
    assert response.context["tenant"] is None


# --- switching ---------------------------------------------------------------------------------


def test_it_lets_a_national_administrator_look_along_in_a_province(federation, login):
    client = login(federation.national_sb)

    response = client.post("/environment/", {"tenant": federation.province1.pk})

    assert response.status_code == 302
    assert response.url == "/"
    home = client.get("/")
    assert current_environment(home) == b"Provincie 1"
    assert LOOKING_ALONG in home.content
    event = AuditEvent.objects.get(action=AuditEvent.Action.ENVIRONMENT_ENTERED)
    assert (event.actor, event.tenant) == (federation.national_sb, federation.province1)


def test_it_records_no_looking_along_when_entering_an_own_environment(federation, login):
    client = login(federation.national_sb)
    client.post("/environment/", {"tenant": federation.province1.pk})

    client.post("/environment/", {"tenant": federation.national.pk})

    home = client.get("/")
    assert current_environment(home) == b"Testfederatie"
    assert LOOKING_ALONG not in home.content
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ENVIRONMENT_ENTERED).count() == 1


def test_it_hides_an_environment_of_another_province(federation, login):
    client = login(federation.province_sb)

    response = client.post("/environment/", {"tenant": federation.province2.pk})

    assert response.status_code == 404
    assert current_environment(client.get("/")) == b"Provincie 1"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.ENVIRONMENT_ENTERED).exists()


@pytest.mark.parametrize("value", ["", "abc", "999999"])
def test_it_answers_404_for_an_unknown_environment(federation, login, value):
    response = login(federation.province_sb).post("/environment/", {"tenant": value})

    assert response.status_code == 404


def test_it_hides_the_environment_above_from_a_province_administrator(federation, login):
    client = login(federation.province_sb)

    response = client.post("/environment/", {"tenant": federation.national.pk})

    assert response.status_code == 404
    assert current_environment(client.get("/")) == b"Provincie 1"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/path", "http://evil.example/users/"]
)
def test_it_ignores_a_next_address_on_another_host(federation, login, target):
    response = login(federation.national_sb).post(
        "/environment/", {"tenant": federation.province1.pk, "next": target}
    )

    assert response.status_code == 302
    assert response.url == "/"


def test_it_follows_a_next_address_on_this_site(federation, login):
    response = login(federation.national_sb).post(
        "/environment/", {"tenant": federation.province1.pk, "next": "/users/"}
    )

    assert response.status_code == 302
    assert response.url == "/users/"


def test_it_lists_only_enterable_environments(federation, login):
    response = login(federation.province_sb).get("/environment/")

    assert response.status_code == 200
    assert {t.name for t in response.context["tenants"]} == {"Provincie 1", "Afdeling 1.1", "Afdeling 1.2"}


def test_the_navigation_switcher_shows_a_new_or_renamed_environment_at_once(federation, login):
    """The dropdown's query is compiled once per set of roots (tenants/compiled.py); its rows are
    read on every page."""
    client = login(federation.province_sb)
    names = [t.name for t in client.get("/").context["switcher_tenants"]()]
    assert names == ["Provincie 1", "Afdeling 1.1", "Afdeling 1.2"]
    tenant_create(parent=federation.province1, kind=TenantKind.DEPARTMENT, name="Afdeling 1.3")
    Tenant.objects.filter(pk=federation.department11.pk).update(name="Afdeling Eén")
    switcher = client.get("/").context["switcher_tenants"]()
    assert [t.name for t in switcher] == ["Provincie 1", "Afdeling Eén", "Afdeling 1.2", "Afdeling 1.3"]
    assert [t.relative_depth for t in switcher] == [1, 2, 2, 2]
    assert [t.name for t in login(federation.national_sb).get("/").context["switcher_tenants"]()] == [
        "Testfederatie", "Provincie 1", "Provincie 2",
    ]


def test_it_lists_every_environment_to_a_national_administrator(federation, login):
    response = login(federation.national_sb).get("/environment/")

    assert {t.pk for t in response.context["tenants"]} == {t.pk for t in federation.tenants.values()}


def test_it_searches_the_environments_by_name(federation, login):
    response = login(federation.national_sb).get("/environment/", {"q": "afdeling 2"})

    assert {t.name for t in response.context["tenants"]} == {"Afdeling 2.1", "Afdeling 2.2"}


def test_it_lists_nothing_to_a_user_without_a_role(federation, login):
    response = login(federation.outsider).get("/environment/")

    assert response.status_code == 200
    assert list(response.context["tenants"]) == []


def test_it_sends_an_anonymous_visitor_from_the_switcher_to_the_login_page(federation, client):
    response = client.post("/environment/", {"tenant": federation.province1.pk})

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_it_falls_back_when_the_role_behind_the_environment_ends(federation, login):
    client = login(federation.department_la)
    detail = f"/environments/{federation.department11.pk}/"
    # A department administrator's home is the ledenmodule, which names the department too.
    assert current_environment(client.get("/", follow=True)) == b"Afdeling 1.1"
    assert client.get(detail).status_code == 200
    assignment = RoleAssignment.objects.get(user=federation.department_la)

    role_assignment_end(actor=federation.province_sb, assignment=assignment)

    home = client.get("/")
    assert current_environment(home) is None
    assert client.get(detail).status_code == 403


# --- banners -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/password/reset/"])
def test_it_shows_the_environment_banner_on_public_pages(settings, client, path):
    settings.ENVIRONMENT_NAME = "Test"

    assert ENVIRONMENT_BANNER in client.get(path).content


def test_it_shows_the_environment_banner_on_every_page_of_a_user(settings, federation, login):
    settings.ENVIRONMENT_NAME = "Test"
    client = login(federation.province_sb)

    for path in ("/", "/users/", "/environment/", f"/environments/{federation.province1.pk}/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert ENVIRONMENT_BANNER in response.content, path


@pytest.mark.parametrize("name", ["production", "Production", ""])
def test_it_shows_no_environment_banner_in_production(settings, federation, login, name):
    settings.ENVIRONMENT_NAME = name
    client = login(federation.province_sb)

    for path in ("/", "/users/"):
        assert ENVIRONMENT_BANNER not in client.get(path).content, path
    assert ENVIRONMENT_BANNER not in client.__class__().get("/accounts/login/").content


# --- language ----------------------------------------------------------------------------------


def test_it_speaks_dutch_by_default(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")

    assert b'<html lang="nl">' in response.content


def test_it_switches_to_english_with_the_language_switch(client):
    response = client.post("/language/", {"language": "en", "next": "/accounts/login/"})

    assert response.status_code == 302
    assert client.cookies["django_language"].value == "en"
    assert b'<html lang="en">' in client.get("/accounts/login/").content


def test_it_switches_back_to_dutch(federation, login):
    client = login(federation.province_sb)
    client.post("/language/", {"language": "en", "next": "/"})
    assert b'<html lang="en">' in client.get("/").content

    client.post("/language/", {"language": "nl", "next": "/"})

    assert b'<html lang="nl">' in client.get("/").content


def test_it_ignores_an_unknown_language(client):
    client.cookies["django_language"] = "fr"

    assert b'<html lang="nl">' in client.get("/accounts/login/").content


def test_the_navigation_links_are_the_reversed_addresses(federation, login):
    """The menu's addresses come from `urls` (reversed once per process and script prefix)."""
    page = login(federation.national_sb).get(reverse("home")).content.decode()
    for name in ("relation_list", "user_list", "invoice_list", "logout", "password_change"):
        assert f'href="{reverse(name)}"' in page or f'action="{reverse(name)}"' in page
    try:  # served below a path: the addresses follow it
        set_script_prefix("/leden/")
        assert URLS["relation_list"] == "/leden/relations/"
    finally:
        set_script_prefix("/")
    assert URLS["relation_list"] == "/relations/"
    with pytest.raises(NoReverseMatch):
        URLS["no_such_page"]


def test_the_cached_menus_follow_the_user_the_environment_and_the_language(federation, client):
    """The menus are kept per process by what they show (`nav_key`): another user's rights, another
    environment or another language gets its own menus, never the ones kept for the first."""
    def menus(user, language="nl"):
        client.force_login(user, backend="tenants.backends.TenantRoleBackend")
        client.cookies["django_language"] = language
        return client.get(reverse("home")).content.decode()

    users_link = f'href="{reverse("user_list")}"'
    assert users_link in menus(federation.national_sb)
    assert users_link not in menus(federation.national_la)  # same environment, fewer rights
    assert users_link in menus(federation.national_sb)
    organisation = reverse("tenant_detail", args=[federation.province1.pk])
    assert f'href="{organisation}"' in menus(federation.province_sb)  # another environment
    assert "Systeembeheer" in menus(federation.national_sb, "nl")
    english = menus(federation.national_sb, "en")
    assert "System administration" in english and "Systeembeheer" not in english
