"""The rights of the people in the data (GDPR, SPEC X3; issue 12 point 7): everything about a
person as a ZIP, erasure by anonymising (history and sent mails included), and the view log."""

from __future__ import annotations

import datetime
import io
import json
import zipfile

import pytest
from django.urls import reverse

from intake import services as intake
from memberships.models import Function
from notifications.models import OutboundMail
from notifications.services import template_mail_send, token_context_for
from quality.models import DataProblem
from relations import privacy
from relations.models import CommunicationEntry, ExportLog, Relation, RelationView
from tenants.models import AuditEvent
from tests.factories import make_intake_form, make_mail_template, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture
def person(federation, django_capture_on_commit_callbacks):
    """Femke, with a membership, a registration, a data problem, a mail with its PDF and a note."""
    relation = make_relation(
        federation.department11, first_name="Femke", infix="van", last_name="Dijk", email="femke@example.org",
        postcode="1234 AB", house_number=5, street="Dorpsstraat", city="Ergens",
        birth_date=datetime.date(2001, 3, 4), phone="0612345678",
    )
    form = make_intake_form(federation.province1)
    registration = intake.registration_submit(
        intake_form=form, department=federation.department11, actor=None,
        values={"first_name": "Femke", "last_name": "Dijk", "email": "femke@example.org",
                "birth_date": "2001-03-04"},
    )
    registration.relation = relation
    registration.save(update_fields=["relation"])
    DataProblem.objects.create(relation=relation, rule="missing_mobile", first_seen=TODAY, last_seen=TODAY)
    template = make_mail_template(federation.national)
    with django_capture_on_commit_callbacks(execute=True):
        template_mail_send(actor=None, tenant=federation.province1, template=template,
                           context=token_context_for(relation, federation.province1), to_email=relation.email,
                           relation=relation)
    CommunicationEntry.objects.create(relation=relation, tenant=federation.province1, subject="Gebeld met Femke",
                                      body="Femke belt terug over haar verhuizing.")
    return relation


def _end_functions(relation: Relation) -> None:
    Function.objects.filter(relation=relation).update(end_date=TODAY - datetime.timedelta(days=1))


def _export(client, relation) -> tuple[dict, zipfile.ZipFile]:
    response = client.get(reverse("relation_personal_data", kwargs={"pk": relation.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip" and "no-store" in response["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return json.loads(archive.read("persoonsgegevens.json")), archive


def test_it_exports_everything_about_a_person_and_logs_it(person, federation, login):
    client = login(federation.national_sb)
    client.get(reverse("relation_detail", kwargs={"pk": person.pk}))
    document, archive = _export(client, person)

    assert document["relation_number"] == person.number
    [card] = document["card"]
    assert (card["first_name"], card["email"], card["birth_date"]) == ("Femke", "femke@example.org", "2001-03-04")
    assert [f["environment"] for f in document["functions"]] == [federation.department11.name]
    assert document["registrations"][0]["submitted_data"]["email"] == "femke@example.org"
    assert document["data_problems"][0]["rule"] == "missing_mobile"
    [mail] = document["mails"]
    assert mail["to"] == "femke@example.org" and mail["attachment"]
    assert archive.read(f"bestanden/{mail['attachment']}").startswith(b"%PDF")
    assert any(entry["subject"] == "Gebeld met Femke" for entry in document["communication"])
    assert document["history"] and document["history"][0]["first_name"] == "Femke"
    assert document["card_views"] == [{"date": TODAY.isoformat(), "user": "national_sb"}]
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.PERSONAL_DATA_EXPORTED, actor=federation.national_sb, detail=str(person.number)
    ).exists()
    [log] = ExportLog.objects.all()
    assert (log.user, log.format, log.rows) == (federation.national_sb, "zip", 1) and str(person.number) in log.what


def test_it_exports_only_for_national_system_administrators(person, federation, login):
    for key in ("province_sb", "national_la", "department_la"):
        response = login(federation.users[key]).get(reverse("relation_personal_data", kwargs={"pk": person.pk}))
        assert response.status_code == 403, key
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_EXPORTED).exists()


def test_it_refuses_to_erase_a_person_with_a_current_function_and_says_why(person, federation, login):
    client = login(federation.national_sb)
    page = client.get(reverse("relation_privacy", kwargs={"pk": person.pk})).content.decode()
    assert "end it first" in page or "beëindig" in page
    response = client.post(reverse("relation_anonymise", kwargs={"pk": person.pk}),
                           {"understood": "on", "number": str(person.number)})
    assert response.status_code == 400
    person.refresh_from_db()
    assert person.first_name == "Femke" and person.anonymised_at is None


def test_it_asks_twice_before_erasing(person, federation, login):
    _end_functions(person)
    client = login(federation.national_sb)
    url = reverse("relation_anonymise", kwargs={"pk": person.pk})
    assert client.post(url, {"number": str(person.number)}).status_code == 400
    response = client.post(url, {"understood": "on", "number": "1"})
    assert response.status_code == 400 and "number" in response.context["form"].errors
    person.refresh_from_db()
    assert person.anonymised_at is None


def test_it_erases_the_person_everywhere_and_keeps_the_functions(person, federation, login):
    _end_functions(person)
    functions_before = list(Function.objects.filter(relation=person).values_list("pk", "start_date", "end_date"))
    client = login(federation.national_sb)
    response = client.post(reverse("relation_anonymise", kwargs={"pk": person.pk}),
                           {"understood": "on", "number": str(person.number)})
    assert response.status_code == 302

    person.refresh_from_db()
    assert person.anonymised_at is not None and person.display_name == privacy.ANONYMISED_NAME
    assert (person.email, person.birth_date, person.postcode, person.phone, person.extra) == ("", None, "", "", {})
    for old in person.history.all():
        assert "Femke" not in (old.first_name, old.last_name) and old.email == "" and old.birth_date is None
    assert list(Function.objects.filter(relation=person).values_list("pk", "start_date", "end_date")) == functions_before
    mail = OutboundMail.objects.get(relation=person)
    assert "femke" not in (mail.to_email + mail.subject + mail.body_text + mail.body_html).lower()
    assert not mail.attachment
    for entry in CommunicationEntry.objects.filter(relation=person):
        assert "Femke" not in entry.subject + entry.body and not entry.attachment
    assert "Femke" not in json.dumps(person.registrations.get().data)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.RELATION_ANONYMISED, detail=str(person.number)).exists()
    # No search finds the person again, by name, e-mail or number.
    for term in ("Femke", "Dijk", "femke@example.org", str(person.number)):
        listed = client.get(reverse("relation_list"), {"q": term}).context["page"].object_list
        assert person.pk not in [row.pk for row in listed], term
    # A second erasure is refused: nothing left to erase.
    assert privacy.erasure_refusals(person)


def test_it_logs_who_opened_a_card_once_a_day(person, federation, login):
    client = login(federation.province_la)
    url = reverse("relation_detail", kwargs={"pk": person.pk})
    client.get(url)
    client.get(url)
    assert list(RelationView.objects.filter(relation=person).values_list("user__username", "day")) == [
        ("province_la", TODAY)
    ]
    page = login(federation.national_sb).get(reverse("relation_privacy", kwargs={"pk": person.pk}))
    assert "province_la" in page.content.decode()
