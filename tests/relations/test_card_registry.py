"""What other apps add to the relation card through relations.card, and what moved out of
relations for the layers (docs/architecture.md): the same screens at the same addresses."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from quality.models import DataProblem
from relations import card
from relations.models import ExportLog
from tests.factories import make_relation

pytestmark = pytest.mark.django_db


def test_it_shows_the_tabs_of_relations_and_of_memberships_in_order(federation, login):
    relation = make_relation(federation.department11)
    response = login(federation.national_sb).get(reverse("relation_detail", args=[relation.pk]))
    tabs = response.context["card_tabs"]
    assert [t["key"] for t in tabs] == ["data", "functions", "history", "communication", "privacy", "billing"]
    assert tabs[1]["url"] == reverse("function_list", args=[relation.pk])


def test_it_shows_the_data_problems_panel_that_quality_registered(federation, login):
    relation = make_relation(federation.department11, email="")
    response = login(federation.national_sb).get(reverse("relation_detail", args=[relation.pk]))
    assert response.context["panels"][0].template == "quality/_card_problems.html"
    assert 'data-testid="data-problems"' in response.text


def test_it_checks_a_new_card_after_its_first_function_started(federation):
    # The quality rules look only at relations holding a function: the check that runs after the
    # save must see the function that memberships starts in the same transaction.
    relation = make_relation(federation.department11, email="")
    assert DataProblem.objects.filter(relation=relation, rule="missing_email", closed_on__isnull=True).exists()


def test_it_runs_the_registered_after_save_checks_once_per_save(federation, monkeypatch):
    seen = []
    monkeypatch.setitem(card._after_save, "test", lambda relation: seen.append(relation.pk))
    relation = make_relation(federation.department11)
    assert seen == [relation.pk]


def test_it_keeps_the_addresses_of_the_screens_that_moved_to_memberships():
    assert reverse("relation_create") == "/relations/new/"
    assert reverse("cancellation_reason_list") == "/settings/cancellation-reasons/"
    assert reverse("cancellation_reason_edit", args=[3]) == "/settings/cancellation-reasons/3/"


def test_it_keeps_the_export_log_in_its_table_with_its_permissions_moved():
    assert ExportLog._meta.db_table == "wizards_exportlog"
    assert ContentType.objects.get_for_model(ExportLog).app_label == "relations"
    assert not ContentType.objects.filter(app_label="wizards", model="exportlog").exists()
