"""Looking along with a department administrator (SPEC T7): a national administrator works in
that person's ledenmodule; changes are real, the history names both people, every start and
stop is logged and the department administrator sees it in their own log."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from memberships import services
from memberships.models import CancellationReason, Function
from relations.models import Relation
from tenants.models import AuditEvent
from tests.factories import give_function, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture
def administrator(federation):
    """Anna, department 1.1's administrator through the function on her card."""
    relation = make_relation(federation.department11, first_name="Anna", last_name="Bakker", email="anna@example.org")
    give_function(relation, federation.department11, "department_member_administration", start_date=TODAY,
                  actor=federation.province_sb)
    relation.refresh_from_db()
    return relation


def start(client, relation):
    return client.post(reverse("look_along_start", args=[relation.user_id]))


def test_it_offers_looking_along_on_the_administrators_card_to_the_federation_only(federation, login, administrator):
    card = reverse("relation_detail", args=[administrator.pk])
    start_url = reverse("look_along_start", args=[administrator.user_id])

    assert start_url in login(federation.national_sb).get(card).content.decode()
    for user in (federation.national_la, federation.province_sb, federation.province_la):
        assert start_url not in login(user).get(card).content.decode(), user


def test_it_shows_the_ledenmodule_as_the_administrator_sees_it_with_a_banner_naming_both(
    federation, login, administrator
):
    client = login(federation.national_sb)

    response = start(client, administrator)
    assert response.url == reverse("ledenmodule_member_list")
    page = client.get(response.url)

    assert page.status_code == 200
    lm = page.context["request"].ledenmodule
    assert (lm.person.pk, lm.department) == (administrator.user_id, federation.department11)
    banner = page.content.decode().split('data-testid="looking-along-banner"')[1].split("</div>")[0]
    assert "Anna" in banner and federation.national_sb.get_full_name() in banner
    assert reverse("look_along_stop") in page.content.decode()


def test_it_refuses_province_administrators_and_leaves_no_trace(federation, login, administrator):
    for user in (federation.province_sb, federation.province_la, federation.national_la):
        client = login(user)
        assert start(client, administrator).status_code == 404, user
        assert client.get(reverse("ledenmodule_member_list")).status_code == 403, user
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOOK_ALONG_STARTED).exists()


def test_it_records_both_people_in_the_history_of_a_change(federation, login, administrator):
    member = make_relation(federation.department11, first_name="Carla", last_name="Huidig")
    client = login(federation.national_sb)
    start(client, administrator)

    client.post(reverse("ledenmodule_member_edit", args=[member.pk]), {
        "kind": "person", "first_name": "Carla", "last_name": "Huidig", "city": "Zutphen", "country": "NL",
        "language": "nl", "magazine_delivery": "automatic", "gender": "",
    })
    client.post(reverse("ledenmodule_member_end", args=[member.pk]), {
        "end_date": TODAY.isoformat(), "reason": CancellationReason.objects.first().pk,
    })

    relation_record = Relation.history.filter(id=member.pk).latest()
    function_record = Function.history.filter(relation_id=member.pk).latest()
    for record in (relation_record, function_record):
        assert record.history_user == federation.national_sb
        assert record.history_on_behalf_of_id == administrator.user_id
    member.refresh_from_db()
    assert member.city == "Zutphen"  # the change is real
    detail = client.get(reverse("ledenmodule_member_detail", args=[member.pk]))
    assert detail.context["events"][0].who == f"{federation.national_sb.username} namens {administrator.user.username}"


def test_it_records_nobody_on_whose_behalf_when_not_looking_along(federation, login, administrator):
    member = make_relation(federation.department11, last_name="Huidig")
    client = login(federation.national_sb)

    client.post(reverse("relation_edit", args=[member.pk]), {
        "kind": "person", "first_name": "Jan", "last_name": "Huidig", "city": "Eefde", "country": "NL",
        "language": "nl", "magazine_delivery": "automatic", "gender": "",
    })

    assert Relation.history.filter(id=member.pk).latest().history_on_behalf_of_id is None


def test_it_logs_start_and_stop_and_shows_them_in_the_administrators_own_log(
    federation, login, administrator, client
):
    national = login(federation.national_sb)
    start(national, administrator)
    stopped = national.post(reverse("look_along_stop"))

    assert stopped.url == reverse("relation_detail", args=[administrator.pk])
    events = list(AuditEvent.objects.filter(target_user_id=administrator.user_id).order_by("pk"))
    assert [(e.action, e.actor, e.tenant) for e in events if e.action.startswith("look_along")] == [
        (AuditEvent.Action.LOOK_ALONG_STARTED, federation.national_sb, federation.department11),
        (AuditEvent.Action.LOOK_ALONG_STOPPED, federation.national_sb, federation.department11),
    ]
    # Back in the national environment, as themselves.
    after = national.get(reverse("home"))
    assert after.wsgi_request.looked_along_user is None
    assert after.wsgi_request.tenant == federation.national

    client.force_login(administrator.user, backend="tenants.backends.TenantRoleBackend")
    log = client.get(reverse("ledenmodule_my_history"))
    assert [e.action for e in log.context["looked_along"]] == [
        AuditEvent.Action.LOOK_ALONG_STOPPED, AuditEvent.Action.LOOK_ALONG_STARTED,
    ]


def test_it_shows_the_administrator_what_was_changed_on_their_behalf(federation, login, administrator, client):
    member = make_relation(federation.department11, first_name="Carla", last_name="Huidig")
    national = login(federation.national_sb)
    start(national, administrator)
    national.post(reverse("ledenmodule_member_end", args=[member.pk]), {
        "end_date": TODAY.isoformat(), "reason": CancellationReason.objects.first().pk,
    })

    client.force_login(administrator.user, backend="tenants.backends.TenantRoleBackend")
    changes = client.get(reverse("ledenmodule_my_history")).context["changes"]

    assert changes and all(who == federation.national_sb for _when, who, _what in changes)
    assert any("Carla Huidig" in what for _when, _who, what in changes)


def test_it_ends_looking_along_when_the_administrators_function_ends(federation, login, administrator):
    client = login(federation.national_sb)
    start(client, administrator)
    Function.objects.filter(relation=administrator, function_type__code="department_member_administration").delete()
    administrator.user.role_assignments.all().delete()

    response = client.get(reverse("home"))

    assert response.wsgi_request.looked_along_user is None
    assert response.wsgi_request.tenant == federation.national
    stops = AuditEvent.objects.filter(action=AuditEvent.Action.LOOK_ALONG_STOPPED, target_user=administrator.user)
    assert [e.actor for e in stops] == [federation.national_sb]


def test_it_ends_looking_along_at_once_when_the_function_is_deleted_through_the_service(
    federation, login, administrator
):
    client = login(federation.national_sb)
    start(client, administrator)
    function = Function.objects.get(relation=administrator, function_type__code="department_member_administration")

    services.function_delete(actor=federation.national_sb, function=function)
    response = client.get(reverse("home"))

    assert response.wsgi_request.looked_along_user is None
    assert response.wsgi_request.tenant == federation.national
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.ROLE_ENDED, target_user=administrator.user, actor=federation.national_sb
    ).exists()


def test_it_refuses_to_start_looking_along_while_already_looking_along(federation, login, administrator):
    other = make_relation(federation.department12, first_name="Bram", last_name="Visser", email="bram@example.org")
    give_function(other, federation.department12, "department_member_administration", start_date=TODAY,
                  actor=federation.province_sb)
    other.refresh_from_db()
    client = login(federation.national_sb)
    start(client, administrator)

    assert start(client, other).status_code == 404
    assert client.get(reverse("home")).wsgi_request.looked_along_user.pk == administrator.user_id
    starts = AuditEvent.objects.filter(action=AuditEvent.Action.LOOK_ALONG_STARTED)
    assert [e.target_user_id for e in starts] == [administrator.user_id]
