"""Ending the memberships of relations selected in the list, all at once (SPEC R4)."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from memberships.models import CancellationReason, Function
from memberships.services import functions_bulk_end
from tenants.models import Role
from tests.factories import UserFactory, give_function, give_role, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
BULK_END = reverse("memberships_bulk_end")


@pytest.fixture
def members(federation):
    return {
        "a": make_relation(federation.department11, first_name="Anna", last_name="Aalbers"),
        "b": make_relation(federation.department12, first_name="Bram", last_name="Bos"),
        "c": make_relation(federation.department21, first_name="Cor", last_name="Claassen"),
    }


def membership(relation) -> Function:
    return Function.objects.get(relation=relation, function_type__code="department_member")


def test_it_shows_the_current_memberships_of_the_selected_relations(federation, members, login):
    response = login(federation.province_sb).get(
        BULK_END, {"relation": [members["a"].pk, members["b"].pk, members["c"].pk], "next": "q=a"}
    )
    assert response.status_code == 200
    # Province 2's member is not province 1's to end.
    assert {f.relation_id for f in response.context["memberships"]} == {members["a"].pk, members["b"].pk}
    form = response.context["form"]
    assert form["end_date"].value() == TODAY
    assert set(form["functions"].value()) == {membership(members["a"]).pk, membership(members["b"]).pk}
    assert response.content.count(b'data-testid="bulk-end-membership"') == 2


def test_it_offers_only_active_cancellation_reasons(federation, members, login):
    CancellationReason.objects.filter(name="Overleden").update(active=False)
    response = login(federation.province_sb).get(BULK_END, {"relation": members["a"].pk})
    reasons = [str(r) for r in response.context["form"].fields["reason"].queryset]
    assert "Overleden" not in reasons
    assert "Verhuisd" in reasons


def test_it_ends_all_selected_memberships(federation, members, login):
    reason = CancellationReason.objects.get(name="Verhuisd")
    board = give_function(members["a"], federation.department11, "department_chair")
    client = login(federation.province_sb)
    response = client.post(BULK_END, {
        "relation": [members["a"].pk, members["b"].pk],
        "functions": [membership(members["a"]).pk, membership(members["b"]).pk],
        "end_date": TODAY.isoformat(), "reason": reason.pk, "note": "Opgezegd per brief", "next": "q=b&page=2",
    })
    assert response.status_code == 302
    assert response["Location"] == reverse("relation_list") + "?q=b"
    for relation in (members["a"], members["b"]):
        ended = membership(relation)
        assert ended.end_date == TODAY
        assert ended.cancellation_reason == reason
        assert ended.cancellation_note == "Opgezegd per brief"
    # Ending a membership ends the relation's other functions too.
    board.refresh_from_db()
    assert board.end_date == TODAY
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["success"]
    assert "2" in str(next(iter(get_messages(response.wsgi_request))))


def test_it_ends_only_the_memberships_left_ticked(federation, members, login):
    login(federation.province_sb).post(BULK_END, {
        "relation": [members["a"].pk, members["b"].pk],
        "functions": [membership(members["a"]).pk],
        "end_date": TODAY.isoformat(),
    })
    assert membership(members["a"]).end_date == TODAY
    assert membership(members["b"]).end_date is None


def test_it_ends_nothing_when_one_membership_cannot_be_ended(federation, members, login):
    future = make_relation(
        federation.department11, first_name="Fien", last_name="Toekomst", start_date=TODAY + datetime.timedelta(days=10)
    )
    response = login(federation.province_sb).post(BULK_END, {
        "relation": [members["a"].pk, members["b"].pk, future.pk],
        "functions": [membership(members["a"]).pk, membership(members["b"]).pk, membership(future).pk],
        "end_date": TODAY.isoformat(),
    })
    assert response.status_code == 200
    assert "end_date" in response.context["form"].errors
    assert Function.objects.filter(end_date__isnull=False).count() == 0


def test_it_refuses_an_end_date_in_the_past(federation, members, login):
    response = login(federation.province_sb).post(BULK_END, {
        "relation": [members["a"].pk], "functions": [membership(members["a"]).pk],
        "end_date": (TODAY - datetime.timedelta(days=1)).isoformat(),
    })
    assert response.status_code == 200
    assert "end_date" in response.context["form"].errors
    assert membership(members["a"]).end_date is None


def test_it_refuses_a_form_with_nothing_ticked_or_no_date(federation, members, login):
    response = login(federation.province_sb).post(BULK_END, {"relation": [members["a"].pk], "end_date": ""})
    assert set(response.context["form"].errors) == {"functions", "end_date"}
    assert membership(members["a"]).end_date is None


def test_it_does_not_end_a_membership_outside_the_environment(federation, members, login):
    response = login(federation.province_sb).post(BULK_END, {
        "relation": [members["a"].pk, members["c"].pk],
        "functions": [membership(members["a"]).pk, membership(members["c"]).pk],
        "end_date": TODAY.isoformat(),
    })
    assert response.status_code == 200
    assert "functions" in response.context["form"].errors
    assert Function.objects.filter(end_date__isnull=False).count() == 0


def test_it_says_so_when_nothing_was_selected(federation, members, login):
    client = login(federation.province_sb)
    response = client.get(BULK_END)
    assert response.status_code == 200
    assert b'data-testid="bulk-end-nothing"' in response.content
    response = client.get(BULK_END, {"relation": [members["c"].pk, "x"]})
    assert b'data-testid="bulk-end-nothing"' in response.content


def test_it_refuses_bulk_end_without_the_change_permission(federation, members, login):
    role = Role.objects.create(code="viewer", name="Viewer", tenant_kind="province")
    role.permissions.set(Permission.objects.filter(codename__in=["view_tenant", "view_relation", "view_function"]))
    viewer = UserFactory(tenant=federation.province1)
    give_role(viewer, federation.province1, "viewer")
    client = login(viewer)
    assert client.get(BULK_END, {"relation": members["a"].pk}).status_code == 403
    response = client.post(BULK_END, {
        "relation": [members["a"].pk], "functions": [membership(members["a"]).pk], "end_date": TODAY.isoformat(),
    })
    assert response.status_code == 403
    assert membership(members["a"]).end_date is None


def test_it_refuses_bulk_end_to_an_outsider(federation, members, login):
    assert login(federation.outsider).get(BULK_END).status_code == 403


def test_it_offers_bulk_end_in_the_list_only_to_who_may_end(federation, members, login):
    assert b'data-testid="bulk-end"' in login(federation.department_la).get(reverse("relation_list")).content
    role = Role.objects.create(code="viewer", name="Viewer", tenant_kind="province")
    role.permissions.set(Permission.objects.filter(codename__in=["view_tenant", "view_relation"]))
    viewer = UserFactory(tenant=federation.province1)
    give_role(viewer, federation.province1, "viewer")
    assert b'data-testid="bulk-end"' not in login(viewer).get(reverse("relation_list")).content


def test_it_counts_each_ended_function_once(federation, members):
    first = membership(members["a"])
    aspirant = give_function(members["a"], federation.department12, "aspirant_member")
    ended = functions_bulk_end(actor=federation.province_sb, functions=[first, aspirant], end_date=TODAY)
    assert Function.objects.filter(end_date=TODAY).count() == 2
    assert (ended, aspirant.history.count()) == (2, 2)  # two ended; aspirant: given, ended
