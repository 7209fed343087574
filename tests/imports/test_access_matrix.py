"""The access matrix of imports, "Mogelijke dubbelen" and merging (ARCHITECTURE "Safety"),
compared with an oracle written here by hand. The runner, the actors and the reading of the
answers are those of tests/tenants/test_access_matrix.py; its completeness test reads this MATRIX.

What the oracle encodes:
- importing: member administrators of every level (department administrators too, into their
  own department); an import is its uploader's alone: 404 to everybody else;
- duplicates: national and province member administrators, for pairs whose both cards the
  current environment shows (404 otherwise); department administrators have no such list (403);
- merging: the same people, never from a department environment.
"""

from __future__ import annotations

import datetime
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports import services
from imports.models import DuplicateCandidate, ImportBatch, Merge
from relations.models import Relation
from tests.factories import make_relation
from tests.fuzz import hostile_get_failures
from tests.tenants.test_access_matrix import (
    ACTORS,
    EVERY_ROLE,
    _as,
    matrix_failures,
)

pytestmark = pytest.mark.django_db

MISSING_BATCH = "00000000-0000-4000-8000-000000000000"
MISSING_PAIR = 987654

#                out  n_sb n_la p_sb p_la d_la p2sb d21  n_sb@p1
OWNER_ONLY =    (403, 404, 404, 200, 404, 404, 404, 404, 404)
MISSING_IMPORT = (403, 404, 404, 404, 404, 404, 404, 404, 404)
DUPLICATES =    (403, 200, 200, 200, 200, 403, 200, 403, 200)
PAIR_PROVINCE1 = (403, 200, 200, 200, 200, 403, 404, 403, 200)
PAIR_ACROSS =   (403, 200, 200, 404, 404, 403, 404, 403, 404)
MISSING_PAIR_ROW = (403, 404, 404, 404, 404, 403, 404, 403, 404)

MATRIX: dict[tuple[str, str, str], tuple[int, ...]] = {
    ("GET", "import_list", "-"): EVERY_ROLE,
    ("GET", "import_template", "csv"): EVERY_ROLE,
    ("GET", "import_template", "xlsx"): EVERY_ROLE,
    ("GET", "import_upload", "-"): (403, 405, 405, 405, 405, 405, 405, 405, 405),
    ("POST", "import_upload", "-"): _as(EVERY_ROLE, 302),
    ("GET", "import_detail", "uploaded"): OWNER_ONLY,
    ("GET", "import_detail", "checked"): OWNER_ONLY,
    ("GET", "import_detail", "imported"): OWNER_ONLY,
    ("GET", "import_detail", "missing"): MISSING_IMPORT,
    ("POST", "import_detail", "uploaded"): _as(OWNER_ONLY, 302),
    ("POST", "import_detail", "missing"): MISSING_IMPORT,
    ("POST", "import_run", "checked"): _as(OWNER_ONLY, 302),
    ("POST", "import_run", "missing"): MISSING_IMPORT,
    ("POST", "import_undo", "imported"): _as(OWNER_ONLY, 302),
    ("POST", "import_undo", "missing"): MISSING_IMPORT,
    ("GET", "import_errors", "checked"): OWNER_ONLY,
    ("GET", "import_errors", "missing"): MISSING_IMPORT,
    ("GET", "duplicate_list", "-"): DUPLICATES,
    ("POST", "duplicate_scan", "-"): _as(DUPLICATES, 302),
    ("POST", "duplicate_dismiss", "pair_province1"): _as(PAIR_PROVINCE1, 302),
    ("POST", "duplicate_dismiss", "pair_across"): _as(PAIR_ACROSS, 302),
    ("POST", "duplicate_dismiss", "missing"): MISSING_PAIR_ROW,
    ("GET", "relation_merge", "pair_province1"): PAIR_PROVINCE1,
    ("GET", "relation_merge", "pair_across"): PAIR_ACROSS,
    ("GET", "relation_merge", "missing"): MISSING_PAIR_ROW,
    ("POST", "relation_merge", "pair_province1"): _as(PAIR_PROVINCE1, 302),
    ("POST", "relation_merge", "pair_across"): _as(PAIR_ACROSS, 302),
}

CSV = "Voornaam;Achternaam;Geboortedatum;Afdeling;Lidmaatschap\r\nAnn;Smit;01-01-1990;Afdeling 1.1;Lid (afdelingsleden)\r\n"


@pytest.fixture(autouse=True)
def _quiet(caplog):
    caplog.set_level(logging.ERROR, logger="django.request")


def _batch(federation, status: str) -> ImportBatch:
    batch = services.import_upload(actor=federation.province_sb, tenant=federation.province1, name=f"{status}.csv",
                                   data=CSV.encode())
    if status in ("checked", "imported"):
        batch = services.import_check(batch=batch)
    if status == "imported":
        batch = services.import_run(actor=federation.province_sb, batch_id=batch.pk)
    return batch


def _pair(a: Relation, b: Relation) -> DuplicateCandidate:
    first, second = sorted((a, b), key=lambda r: r.pk)
    return DuplicateCandidate.objects.create(relation_a=first, relation_b=second, score=90, reasons=["birth_name"])


@pytest.fixture
def objects(federation) -> dict:
    birth = datetime.date(1970, 1, 1)
    one = make_relation(federation.department11, last_name="Dubbel", birth_date=birth)
    two = make_relation(federation.department12, last_name="Dubbel", birth_date=birth)
    far = make_relation(federation.department21, last_name="Dubbel", birth_date=birth)
    return {
        "uploaded": _batch(federation, "uploaded"),
        "checked": _batch(federation, "checked"),
        "imported": _batch(federation, "imported"),
        "pair_province1": _pair(one, two),
        "pair_across": _pair(one, far),
    }


def _url(url_name: str, probe: str, objects: dict) -> str:
    if url_name == "import_template":
        return reverse(url_name, kwargs={"fmt": probe})
    if probe == "-":
        return reverse(url_name)
    if url_name.startswith("import_"):
        return reverse(url_name, kwargs={"pk": MISSING_BATCH if probe == "missing" else objects[probe].pk})
    return reverse(url_name, kwargs={"pk": MISSING_PAIR if probe == "missing" else objects[probe].pk})


def _post_data(url_name: str, probe: str, objects: dict) -> dict:
    if url_name == "import_detail":
        return {"action": "check", "col_0": "first_name", "col_1": "last_name", "col_2": "birth_date",
                "col_3": "department", "col_4": "function_type", "encoding": "utf-8"}
    if url_name == "relation_merge":
        return {"keep": "a", "field_first_name": "b"}
    return {}


def _for_actor(payload: dict, actor: str, url_name: str) -> dict:
    # A file can be read once: every actor posts a fresh one.
    if url_name == "import_upload":
        return {"file": SimpleUploadedFile("leden.csv", CSV.encode(), content_type="text/csv")}
    return payload


def _state() -> tuple:
    return (
        list(ImportBatch.objects.order_by("pk").values_list("pk", "status", "mapping")),
        list(Relation.objects.order_by("pk").values_list("pk", "first_name", "city")),
        list(DuplicateCandidate.objects.order_by("pk").values_list("pk", "dismissed_at")),
        Merge.objects.count(),
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
        for_actor=lambda payload, actor: _for_actor(payload, actor, url_name),
        # A scan that finds what is already listed changes nothing, and says so.
        success_without_change={"duplicate_scan"},
    )
    assert not failures, "\n".join(failures)


def test_it_keeps_post_rows_for_every_state_changing_view():
    posted = {url_name for method, url_name, _probe in MATRIX if method == "POST"}
    assert {"import_upload", "import_detail", "import_run", "import_undo", "duplicate_scan", "duplicate_dismiss",
            "relation_merge"} <= posted


def test_it_answers_no_server_error_to_hostile_parameters_on_any_page(federation, objects):
    failures = hostile_get_failures(MATRIX, federation, url=lambda name, probe: _url(name, probe, objects))
    assert not failures, "\n".join(failures)
