"""Retention (GDPR, issue 12 point 7): off by default; with a period set, the nightly job
anonymises former members whose last function ended longer ago, and the screen lists them first."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from memberships.models import Function
from quality.jobs import job_run
from quality.retention import retention_candidates, retention_cutoff, retention_setting_save
from relations.models import Relation
from tests.factories import make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 30)


def _former(federation, name: str, ended: datetime.date) -> Relation:
    relation = make_relation(federation.department11, last_name=name, start_date=ended - datetime.timedelta(days=900))
    Function.objects.filter(relation=relation).update(end_date=ended)
    return relation


@pytest.fixture
def people(federation):
    return {
        "long_gone": _former(federation, "Langweg", TODAY - datetime.timedelta(days=3 * 366)),
        "recent": _former(federation, "Pasweg", TODAY - datetime.timedelta(days=365)),
        "member": make_relation(federation.department11, last_name="Lid"),
    }


def test_it_anonymises_nobody_while_no_period_is_set(people):
    run, did = job_run("retention", TODAY)
    assert did and run.counts == {"anonymised": 0, "skipped": 0}
    assert not Relation.objects.filter(anonymised_at__isnull=False).exists()


def test_it_anonymises_former_members_after_the_period_and_nobody_else(people, federation):
    retention_setting_save(actor=federation.national_sb, years=2)
    assert [r.pk for r in retention_candidates(TODAY)] == [people["long_gone"].pk]
    run, _did = job_run("retention", TODAY)
    assert run.counts == {"anonymised": 1, "skipped": 0}
    anonymised = set(Relation.objects.filter(anonymised_at__isnull=False).values_list("pk", flat=True))
    assert anonymised == {people["long_gone"].pk}
    people["long_gone"].refresh_from_db()
    assert people["long_gone"].last_name == "Geanonimiseerd"
    # The next night finds nobody new.
    assert not retention_candidates(TODAY + datetime.timedelta(days=1)).exists()


def test_it_counts_back_whole_years_from_a_leap_day():
    assert retention_cutoff(datetime.date(2028, 2, 29), 1) == datetime.date(2027, 2, 28)


def test_the_screen_lists_who_the_next_run_anonymises(people, federation, login):
    client = login(federation.national_sb)
    url = reverse("quality_retention")
    assert "Langweg" not in client.get(url).content.decode()
    assert client.post(url, {"years": "2"}).status_code == 302
    page = client.get(url).content.decode()
    assert "Langweg" in page and "Pasweg" not in page and "Lid," not in page
    response = client.post(url, {"years": "0"})
    assert response.status_code == 200 and "years" in response.context["form"].errors


def test_only_national_system_administrators_set_the_period(federation, login):
    for key in ("national_la", "province_sb", "department_la"):
        assert login(federation.users[key]).get(reverse("quality_retention")).status_code == 403, key
