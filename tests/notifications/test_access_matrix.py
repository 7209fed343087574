"""The access matrix of mail templates, the token dictionary, log attachments and personalised
documents (issue 5), read like tests/tenants/test_access_matrix.py, whose completeness test also
reads this MATRIX.

Objects: mt_national (usable everywhere), mt_province1 (usable in province 1 and below; changed
only there); ce_department11: a communication-log entry with a PDF on a member of department 1.1.
Member administrators use templates (preview, test, documents); system administrators make and
change them. Department administrators do not see the communication log.
"""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from notifications.models import DocumentJob, MailTemplate, OutboundMail
from notifications.services import document_job_create, template_mail_send, token_context_for
from relations.models import CommunicationEntry
from tests.factories import make_mail_template, make_relation
from tests.fuzz import hostile_get_failures
from tests.tenants.test_access_matrix import (
    ACTORS,
    EVERY_ROLE,
    MISSING,
    MISSING_PK,
    _as,
    matrix_failures,
)

pytestmark = pytest.mark.django_db

#                 out  n_sb  n_la  p_sb  p_la  d_la  p2sb  d21  n_sb@p1
SYSTEM_ADMINS = (403, 200, 403, 200, 403, 403, 200, 403, 200)
MEMBER_ADMINS = (403, 200, 200, 200, 200, 403, 200, 403, 200)
OWN_P1 = (403, 404, 403, 200, 403, 403, 404, 403, 200)
OWN_NAT = (403, 200, 403, 404, 403, 403, 404, 403, 404)
USES_P1 = (403, 404, 404, 200, 200, 403, 404, 403, 200)



MATRIX: dict[tuple[str, str, str], tuple[int, ...]] = {
    ("GET", "mail_template_list", "-"): MEMBER_ADMINS,
    ("GET", "mail_template_create", "-"): SYSTEM_ADMINS,
    ("POST", "mail_template_create", "-"): _as(SYSTEM_ADMINS, 302),
    ("GET", "mail_template_edit", "mt_province1"): OWN_P1,
    ("GET", "mail_template_edit", "mt_national"): OWN_NAT,
    ("GET", "mail_template_edit", "missing"): (403, 404, 403, 404, 403, 403, 404, 403, 404),
    ("POST", "mail_template_edit", "mt_province1"): _as(OWN_P1, 302),
    ("POST", "mail_template_edit", "mt_national"): _as(OWN_NAT, 302),
    # Copying makes the template the current environment's own.
    ("GET", "mail_template_copy", "mt_national"): (403, 405, 405, 405, 405, 405, 405, 405, 405),
    ("POST", "mail_template_copy", "mt_national"): _as(SYSTEM_ADMINS, 302),
    ("POST", "mail_template_copy", "mt_province1"): (403, 404, 403, 302, 403, 403, 404, 403, 302),
    ("GET", "mail_template_preview", "mt_national"): MEMBER_ADMINS,
    ("GET", "mail_template_preview", "mt_province1"): USES_P1,
    ("GET", "mail_template_preview", "missing"): (403, 404, 404, 404, 404, 403, 404, 403, 404),
    ("GET", "mail_template_pdf", "mt_national"): MEMBER_ADMINS,
    ("GET", "mail_template_pdf", "mt_province1"): USES_P1,
    ("GET", "token_dictionary", "-"): EVERY_ROLE,
    ("GET", "communication_attachment", "ce_department11"): (403, 200, 200, 200, 200, 403, 404, 404, 200),
    ("GET", "communication_attachment", "missing"): MISSING,
    ("GET", "documents_send", "-"): MEMBER_ADMINS,
    # Documents for a member of department 1.1: province 2 does not see them, so nothing is made.
    ("POST", "documents_send", "r_department11"): (403, 302, 302, 302, 302, 403, 200, 403, 302),
    # A documents job and its PDF are their maker's alone (province_la, in province 1).
    ("GET", "document_job_detail", "dj_province_la"): (403, 404, 404, 404, 200, 403, 404, 403, 404),
    ("GET", "document_job_detail", "missing"): (403, 404, 404, 404, 404, 403, 404, 403, 404),
    ("GET", "document_job_download", "dj_province_la"): (403, 404, 404, 404, 200, 403, 404, 403, 404),
}


@pytest.fixture(autouse=True)
def _quiet(caplog):
    caplog.set_level(logging.ERROR, logger="django.request")


@pytest.fixture
def objects(federation, django_capture_on_commit_callbacks) -> dict:
    found: dict = {}
    found["mt_national"] = make_mail_template(federation.national, name="Landelijk")
    found["mt_province1"] = make_mail_template(federation.province1, name="Provinciaal")
    relation = make_relation(federation.department11, first_name="Femke", email="femke@example.org")
    found["r_department11"] = relation
    with django_capture_on_commit_callbacks(execute=True):
        sent = template_mail_send(actor=None, tenant=federation.province1, template=found["mt_national"],
                                  context=token_context_for(relation, federation.province1),
                                  to_email=relation.email, relation=relation)
    found["ce_department11"] = sent.communication_entry
    with django_capture_on_commit_callbacks(execute=True):
        found["dj_province_la"] = document_job_create(
            actor=federation.province_la, tenant=federation.province1, template=found["mt_national"],
            relations=[relation], action="download", by_email=False,
        )
    return found


def _url(url_name: str, probe: str, objects: dict) -> str:
    if probe == "-" or url_name == "documents_send":
        return reverse(url_name)
    pk = MISSING_PK if probe == "missing" else objects[probe].pk
    return reverse(url_name, kwargs={"pk": pk})


def _post_data(url_name: str, probe: str, objects: dict) -> dict:
    template = {"name": "Nieuw sjabloon", "email_subject": "Hallo [firstname]", "email_text": "Tekst",
                "body_1": "Beste [fullname]", "pdf_filename": "brief"}
    if url_name in ("mail_template_create", "mail_template_edit"):
        return template
    if url_name == "documents_send":
        return {"relation": [objects[probe].pk], "template": objects["mt_national"].pk, "action": "send"}
    return {}


def _state() -> tuple:
    return (
        list(MailTemplate.objects.order_by("pk").values_list("pk", "name", "email_subject")),
        CommunicationEntry.objects.count(),
        OutboundMail.objects.count(),
        DocumentJob.objects.count(),
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
        data=lambda name, probe: _post_data(name, probe, objects),
    )
    assert not failures, "\n".join(failures)


def test_it_keeps_post_rows_for_every_state_changing_view():
    posted = {url_name for method, url_name, _probe in MATRIX if method == "POST"}
    assert {"mail_template_create", "mail_template_edit", "mail_template_copy", "documents_send"} <= posted


def test_it_answers_no_server_error_to_hostile_parameters_on_any_page(federation, objects):
    failures = hostile_get_failures(MATRIX, federation, url=lambda name, probe: _url(name, probe, objects))
    assert not failures, "\n".join(failures)
