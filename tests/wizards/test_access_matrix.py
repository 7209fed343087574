"""The access matrix of the selection wizards, their exports and the mutation list (ARCHITECTURE
"Safety"), compared with an oracle written here by hand. The runner, the actors and the reading
of the answers are those of tests/tenants/test_access_matrix.py; its completeness test also reads
this MATRIX.

What the oracle encodes:
- a wizard applies in its own environment and below; the shipped ones (w_standard,
  w_ledenmodule) everywhere. Department administrators run ledenmodule wizards only: another
  wizard is 404 to them, as is a wizard of another branch to anyone;
- editing: system administrators of the wizard's environment and above; the shipped wizards
  belong to the federation; ledenmodule wizards need the national power;
- copying: whoever may run the wizard and add wizards in the current environment;
- a background export is the requester's alone: 404 to everybody else.
"""

from __future__ import annotations

import datetime
import logging

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_relation, make_wizard
from tests.fuzz import hostile_get_failures
from tests.tenants.test_access_matrix import (
    ACTORS,
    EVERY_ROLE,
    MISSING,
    MISSING_PK,
    _as,
    matrix_failures,
)
from wizards.models import ExportJob, Wizard, WizardField
from wizards.services import export_storage

from .editor_data import edit_data

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()

# (out, n_sb, n_la, p_sb, p_la, d_la, p2sb, d21, n_sb@p1)
RUNS_STANDARD = (403, 200, 200, 200, 200, 404, 200, 404, 200)
RUNS_PROVINCE1 = (403, 404, 404, 200, 200, 404, 404, 404, 200)
RUNS_PROVINCE2 = (403, 404, 404, 404, 404, 404, 200, 404, 404)
EDITS_STANDARD = (403, 200, 403, 403, 403, 404, 403, 404, 200)
EDITS_LEDENMODULE = (403, 200, 403, 403, 403, 403, 403, 403, 200)
EDITS_PROVINCE1 = (403, 404, 404, 200, 403, 404, 404, 404, 200)
COPIES_STANDARD = (403, 200, 403, 200, 403, 404, 200, 404, 200)
COPIES_LEDENMODULE = (403, 200, 403, 200, 403, 403, 200, 403, 200)
OWNER_ONLY = (403, 404, 404, 200, 404, 404, 404, 404, 404)
MUTATIONS = (403, 200, 200, 200, 200, 403, 200, 403, 200)



MATRIX: dict[tuple[str, str, str], tuple[int, ...]] = {
    ("GET", "wizard_list", "-"): EVERY_ROLE,
    ("GET", "wizard_run", "w_standard"): RUNS_STANDARD,
    ("GET", "wizard_run", "w_ledenmodule"): EVERY_ROLE,
    ("GET", "wizard_run", "w_province1"): RUNS_PROVINCE1,
    ("GET", "wizard_run", "w_province2"): RUNS_PROVINCE2,
    ("GET", "wizard_run", "missing"): MISSING,
    # Downloads answer 200 with the file (and write the export log, which is not "changed data").
    ("GET", "wizard_export", "w_standard"): (403, 405, 405, 405, 405, 405, 405, 405, 405),
    ("POST", "wizard_export", "w_standard"): RUNS_STANDARD,
    ("POST", "wizard_export", "w_ledenmodule"): EVERY_ROLE,
    ("POST", "wizard_export", "w_province1"): RUNS_PROVINCE1,
    ("POST", "wizard_export", "missing"): MISSING,
    ("GET", "wizard_edit", "w_standard"): EDITS_STANDARD,
    ("GET", "wizard_edit", "w_ledenmodule"): EDITS_LEDENMODULE,
    ("GET", "wizard_edit", "w_province1"): EDITS_PROVINCE1,
    ("GET", "wizard_edit", "w_province2"): (403, 404, 404, 404, 404, 404, 200, 404, 404),
    ("GET", "wizard_edit", "missing"): MISSING,
    ("POST", "wizard_edit", "w_standard"): _as(EDITS_STANDARD, 302),
    ("POST", "wizard_edit", "w_ledenmodule"): _as(EDITS_LEDENMODULE, 302),
    ("POST", "wizard_edit", "w_province1"): _as(EDITS_PROVINCE1, 302),
    ("POST", "wizard_field_add", "w_standard"): _as(EDITS_STANDARD, 302),
    ("POST", "wizard_field_add", "w_ledenmodule"): _as(EDITS_LEDENMODULE, 302),
    ("POST", "wizard_field_add", "w_province1"): _as(EDITS_PROVINCE1, 302),
    ("GET", "wizard_copy", "w_standard"): COPIES_STANDARD,
    ("GET", "wizard_copy", "w_ledenmodule"): COPIES_LEDENMODULE,
    ("GET", "wizard_copy", "w_province1"): EDITS_PROVINCE1,
    ("GET", "wizard_copy", "missing"): MISSING,
    ("POST", "wizard_copy", "w_standard"): _as(COPIES_STANDARD, 302),
    ("POST", "wizard_copy", "w_ledenmodule"): _as(COPIES_LEDENMODULE, 302),
    ("POST", "wizard_copy", "w_province1"): _as(EDITS_PROVINCE1, 302),
    # The shipped wizards are never deleted: 403 wherever they can be seen.
    ("POST", "wizard_delete", "w_standard"): (403, 403, 403, 403, 403, 404, 403, 404, 403),
    ("POST", "wizard_delete", "w_province1"): _as(EDITS_PROVINCE1, 302),
    ("POST", "wizard_delete", "missing"): MISSING,
    ("GET", "export_job_detail", "job_province_sb"): OWNER_ONLY,
    ("GET", "export_job_detail", "missing"): MISSING,
    ("GET", "export_job_download", "job_province_sb"): OWNER_ONLY,
    ("GET", "export_job_download", "missing"): MISSING,
    # Making a download again: only its owner, by POST (a new job with the same answers).
    ("GET", "export_job_again", "job_province_sb"): (403, 405, 405, 405, 405, 405, 405, 405, 405),
    ("POST", "export_job_again", "job_province_sb"): _as(OWNER_ONLY, 302),
    ("POST", "export_job_again", "missing"): MISSING,
    ("GET", "mutation_list", "-"): MUTATIONS,
    ("GET", "mutation_list_export", "csv"): MUTATIONS,
    ("GET", "mutation_list_export", "xlsx"): MUTATIONS,
}

MISSING_JOB = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(autouse=True)
def _quiet(caplog):
    caplog.set_level(logging.ERROR, logger="django.request")


@pytest.fixture
def objects(federation) -> dict:
    make_relation(federation.department11, last_name="Elf")
    make_relation(federation.department21, last_name="Eenentwintig")
    found = {
        "w_standard": Wizard.objects.get(code="member_list"),
        "w_ledenmodule": Wizard.objects.get(code="ledenmodule_member_list"),
        "w_province1": make_wizard(federation.province1, {"field_key": "number"}, {"field_key": "name"},
                                   name="Provincie 1"),
        "w_province2": make_wizard(federation.province2, {"field_key": "number"}, name="Provincie 2"),
    }
    job = ExportJob.objects.create(
        user=federation.province_sb, tenant=federation.province1, wizard=found["w_province1"], what="Provincie 1",
        format="csv", status=ExportJob.Status.DONE, file_name="matrix.csv", rows_done=1, rows_total=1,
        finished_at=timezone.now(), expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    export_storage().save("matrix.csv", ContentFile("\ufeffRelatienummer\r\n100001\r\n".encode()))
    found["job_province_sb"] = job
    return found


def _url(url_name: str, probe: str, objects: dict) -> str:
    if probe == "-":
        return reverse(url_name)
    if url_name == "mutation_list_export":
        return reverse(url_name, kwargs={"fmt": probe}) + f"?date_from=2020-01-01&date_to={TODAY.isoformat()}"
    if url_name.startswith("export_job"):
        return reverse(url_name, kwargs={"pk": MISSING_JOB if probe == "missing" else objects[probe].pk})
    pk = MISSING_PK if probe == "missing" else objects[probe].pk
    if url_name == "wizard_export":
        return reverse(url_name, kwargs={"pk": pk, "fmt": "csv"})
    return reverse(url_name, kwargs={"pk": pk})


def _post_data(url_name: str, probe: str, objects: dict) -> dict:
    if url_name == "wizard_export":
        return {"day": TODAY.isoformat()}
    if url_name == "wizard_edit":
        return edit_data(objects[probe], number={"label": "Lidnummer"})
    if url_name == "wizard_field_add":
        return {"field_key": "initials"}  # in none of the probes wizards (a field is added once)
    if url_name == "wizard_copy":
        return {"name": "Kopie voor de matrix"}
    return {}


def _state() -> tuple:
    return (
        list(Wizard.objects.order_by("pk").values_list("pk", "name", "section")),
        list(WizardField.objects.order_by("pk").values_list("pk", "field_key", "label", "order")),
        ExportJob.objects.count(),
    )


def test_it_has_one_answer_per_actor_in_every_row():
    for key, row in MATRIX.items():
        assert len(row) == len(ACTORS), key


@pytest.mark.parametrize(
    ("method", "url_name"),
    sorted({(m, u) for m, u, _probe in MATRIX}, key=lambda mu: (mu[1], mu[0])),
    ids=lambda value: value,
)
def test_it_gives_every_user_the_answer_of_the_matrix(method, url_name, federation, objects):
    failures = matrix_failures(
        method, url_name, MATRIX, federation, state=_state,
        url=lambda name, probe: _url(name, probe, objects),
        data=lambda name, probe: _post_data(name, probe, objects) if probe != "missing" else {},
    )
    assert not failures, "\n".join(failures)


def test_it_keeps_post_rows_for_every_state_changing_view():
    posted = {url_name for method, url_name, _probe in MATRIX if method == "POST"}
    assert {"wizard_export", "wizard_edit", "wizard_field_add", "wizard_copy", "wizard_delete"} <= posted


def test_it_answers_no_server_error_to_hostile_parameters_on_any_page(federation, objects):
    failures = hostile_get_failures(MATRIX, federation, url=lambda name, probe: _url(name, probe, objects))
    assert not failures, "\n".join(failures)
