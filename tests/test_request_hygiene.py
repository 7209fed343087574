"""Input a user can type that the site cannot take answers a clear Dutch page, never a 500:
a NUL byte in the address or a GET parameter, a login name longer than any login, a body that is
too large or has too many fields (issue 12, "500s for input a user can type")."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt

pytestmark = pytest.mark.django_db

NUL_URLS = [
    "/relations/?q=a%00b",
    "/relations/?col_city=Arn%00hem",
    "/relations/export/csv/?q=%00",
    "/users/?q=%00",
    "/environment/?q=%00",
    "/wizards/?q=%00",
    "/registrations/?status=%00",
    "/relations/%00/",
]


@pytest.fixture
def nl_client(client):
    client.raise_request_exception = False
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "nl"
    return client


@pytest.mark.parametrize("url", NUL_URLS)
def test_it_refuses_a_nul_byte_in_the_address_with_a_dutch_page(nl_client, federation, login, url):
    login(federation.national_sb)
    response = nl_client.get(url)
    assert response.status_code == 400
    assert "een teken dat niet is toegestaan (een NUL-teken)" in response.content.decode()


def test_it_refuses_a_nul_byte_in_the_ledenmodule(nl_client, federation, login):
    login(federation.department_la)
    assert nl_client.get("/ledenmodule/?q=%00").status_code == 400


def test_it_answers_a_login_name_longer_than_any_login_with_a_form_error(nl_client, federation):
    response = nl_client.post("/accounts/login/", {"username": "x" * 300, "password": "wrong-password"})
    assert response.status_code == 200
    assert "hooguit 254 tekens" in response.content.decode()
    assert not AccessAttempt.objects.exists()


def test_it_still_counts_a_failed_login_of_a_normal_length(nl_client, federation):
    nl_client.post("/accounts/login/", {"username": "x" * 254, "password": "wrong-password"})
    assert AccessAttempt.objects.filter(username="x" * 254).exists()


def test_it_says_which_part_of_a_post_was_too_large(nl_client, federation, login, settings):
    login(federation.national_sb)
    response = nl_client.post("/relations/new/", {"x": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    assert response.status_code == 400
    assert "te groot" in response.content.decode()


def test_it_says_when_a_form_has_too_many_fields(nl_client, federation, login, settings):
    login(federation.national_sb)
    fields = {f"field{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = nl_client.post("/relations/new/", fields)
    assert response.status_code == 400
    assert "te veel velden" in response.content.decode()
