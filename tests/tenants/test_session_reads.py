"""What every request reads before its view — the session, the user, the environment — read with
SQL kept per process (tenants/session_store.py, tenants/compiled.py): always the rows as they are
now, never what an earlier request found."""

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from tenants.models import Tenant, User
from tenants.session_store import SessionStore

pytestmark = pytest.mark.django_db


def test_a_session_is_read_as_saved_and_not_after_it_expired():
    store = SessionStore()
    store["colour"] = "blue"
    store.save()
    assert SessionStore(store.session_key).load() == {"colour": "blue"}
    Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    expired = SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None
    assert SessionStore("an-unknown-key-of-forty-characters-long").load() == {}


def test_every_request_reads_the_user_and_the_environment_as_they_are_now(federation, login):
    client = login(federation.province_sb)
    home = reverse("home")
    assert client.get(home).status_code == 200
    Tenant.objects.filter(pk=federation.province1.pk).update(name="Provincie Hernoemd")
    User.objects.filter(pk=federation.province_sb.pk).update(first_name="Nieuwe", last_name="Naam")
    page = client.get(home).content.decode()
    assert "Provincie Hernoemd" in page and "Nieuwe Naam" in page
    User.objects.filter(pk=federation.province_sb.pk).update(is_active=False)
    response = client.get(home)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
