"""The optional read replica (DATABASE_REPLICA_URL): the wizards' rows are read from it, every
write and migration stays on the primary; without it everything uses the primary."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ledenbeheer.dbrouter import ReplicaRouter, read_alias
from relations.models import Relation
from tests.factories import make_relation
from wizards.models import Wizard
from wizards.runs import RunParameters, WizardRun


def _databases(env: dict) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps({'aliases': sorted(settings.DATABASES), 'routers': getattr(settings, 'DATABASE_ROUTERS', []), "
        "'replica': settings.DATABASES.get('replica', {}).get('HOST'), "
        "'test': settings.DATABASES.get('replica', {}).get('TEST')}))"
    )
    output = subprocess.run(  # noqa: S603 (our own interpreter and a fixed program)
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"DJANGO_SETTINGS_MODULE": "ledenbeheer.settings", "PATH": "/usr/bin:/bin", **env},
    ).stdout
    return json.loads(output)


def test_it_adds_the_replica_and_its_router_only_when_asked():
    assert _databases({}) == {"aliases": ["default"], "routers": [], "replica": None, "test": None}
    found = _databases({"DATABASE_URL": "postgres://u@primary:5432/leden", "DATABASE_REPLICA_URL": "postgres://u@replica:5432/leden"})
    assert (found["aliases"], found["routers"], found["replica"]) == (
        ["default", "replica"], ["ledenbeheer.dbrouter.ReplicaRouter"], "replica",
    )
    assert found["test"]["MIRROR"] == "default"  # the tests read "the replica" from the primary


def test_it_writes_and_migrates_only_on_the_primary():
    router = ReplicaRouter()
    assert router.db_for_write(Relation) == "default"
    assert router.db_for_read(Relation) is None  # Django's default: the primary, or the row's own database
    assert router.allow_migrate("default", "relations") and not router.allow_migrate("replica", "relations")


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_it_reads_the_wizard_rows_from_the_replica_when_there_is_one(federation, settings):
    make_relation(federation.department11, last_name="Lid")
    run = WizardRun(Wizard.objects.get(code="member_list"), user=federation.province_sb, tenant=federation.province1,
                    params=RunParameters())
    assert read_alias() == "default" and run.matches().db == "default" and run.rows().count() == 1

    settings.DATABASES = {**settings.DATABASES, "replica": {**settings.DATABASES["default"], "TEST": {"MIRROR": "default"}}}
    assert read_alias() == "replica"
    # The query itself is aimed at the replica (this test process has no connection of that name).
    assert run.matches().db == "replica"
