"""The mutation list (SPEC W4): sign-ups, cancellations and other changes in a period, by
relation type, on screen and as downloads, never showing another province's mutations."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse

from memberships.models import CancellationReason, Function
from relations.services import relation_update
from tests.factories import give_function, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture
def history(federation):
    joined = make_relation(federation.department11, last_name="Nieuw", start_date=TODAY - datetime.timedelta(days=3))
    left = make_relation(federation.department12, last_name="Weg", start_date=TODAY - datetime.timedelta(days=400))
    Function.objects.filter(relation=left).update(
        end_date=TODAY - datetime.timedelta(days=2), cancellation_reason=CancellationReason.objects.get(name="Verhuisd")
    )
    other = make_relation(federation.department21, last_name="Andere provincie", start_date=TODAY)
    chair = make_relation(federation.department11, last_name="Voorzitter", start_date=TODAY - datetime.timedelta(days=900))
    give_function(chair, federation.department11, "department_chair", start_date=TODAY - datetime.timedelta(days=1))
    changed = make_relation(federation.department11, last_name="Verhuizer", city="Zwolle",
                            start_date=TODAY - datetime.timedelta(days=900))
    relation_update(actor=federation.province_sb, relation=changed, data={"city": "Kampen"})
    return {"joined": joined, "left": left, "other": other, "chair": chair, "changed": changed}


def _get(client, **params):
    query = {"date_from": (TODAY - datetime.timedelta(days=10)).isoformat(), "date_to": TODAY.isoformat(), **params}
    return client.get(reverse("mutation_list"), query)


def test_it_lists_sign_ups_cancellations_and_changes_of_the_environment(federation, history, login):
    response = _get(login(federation.province_sb))
    rows = {(m.kind, m.name) for m in response.context["result"].rows}
    assert ("sign_up", "Nieuw, Jan") in rows
    assert ("cancellation", "Weg, Jan") in rows
    assert ("sign_up", "Voorzitter, Jan") in rows
    assert any(kind == "change" and name == "Verhuizer, Jan" for kind, name in rows)
    assert not any("Andere provincie" in name for _kind, name in rows)
    cancellation = next(m for m in response.context["result"].rows if m.kind == "cancellation")
    assert cancellation.detail == "Verhuisd"
    change = next(m for m in response.context["result"].rows if m.kind == "change")
    assert "plaats" in change.detail.lower()


def test_it_narrows_by_relation_type_and_kind_of_mutation(federation, history, login):
    client = login(federation.province_sb)
    rows = _get(client, category=["board"]).context["result"].rows
    assert {(m.kind, m.name) for m in rows if m.kind != "change"} == {("sign_up", "Voorzitter, Jan")}
    rows = _get(client, kinds=["cancellation"]).context["result"].rows
    assert {m.name for m in rows} == {"Weg, Jan"}


def test_it_exports_what_the_screen_shows(federation, history, login):
    client = login(federation.province_sb)
    screen = _get(client).context["result"].rows
    response = client.get(reverse("mutation_list_export", args=["csv"]), {
        "date_from": (TODAY - datetime.timedelta(days=10)).isoformat(), "date_to": TODAY.isoformat(),
    })
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Datum", "Mutatie", "Relatienummer", "Naam"]
    assert [(r[2], r[3]) for r in rows[1:]] == [(str(m.number), m.name) for m in screen]


def test_it_refuses_a_reversed_or_impossible_period(federation, login):
    client = login(federation.province_sb)
    response = client.get(reverse("mutation_list"), {"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert response.context["result"] is None and "date_to" in response.context["form"].errors
    response = client.get(reverse("mutation_list"), {"date_from": "morgen", "date_to": "2026-04-01"})
    assert "date_from" in response.context["form"].errors
    response = client.get(reverse("mutation_list_export", args=["csv"]), {"date_from": "x", "date_to": "y"})
    assert response.status_code == 302


def test_it_keeps_the_queries_bounded(federation, history, login, django_assert_max_num_queries):
    client = login(federation.province_sb)
    for index in range(20):
        make_relation(federation.department11, last_name=f"Extra {index}")
    with django_assert_max_num_queries(20):
        assert _get(client).status_code == 200
