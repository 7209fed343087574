"""Intake forms, the public form and registrations (SPEC I1–I3): rows and required fields, bad
input, spam protection, accepting (one relation, one membership, safe against a double click),
duplicates, linking, rejecting, and the status actions' mails."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.models import Mandate
from intake import services as intake
from intake.models import IntakeForm, Registration, RegistrationStatus
from memberships.models import Function, FunctionType
from relations.models import CommunicationEntry, Relation
from tests.billing.world import billing_environment
from tests.factories import make_intake_form, make_mail_template, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def intake_form(federation) -> IntakeForm:
    return make_intake_form(federation.province1)


def _answers(intake_form: IntakeForm, department, **overrides) -> dict:
    data = {
        "f_first_name": "Femke", "f_infix": "van", "f_last_name": "Dijk", "f_birth_date": "2005-04-03",
        "f_email": "femke@example.org", "f_postcode": "7001ab", "f_house_number": "12",
        "department": department.pk, "privacy": "on", "homepage": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _submit(client, intake_form, department, **overrides):
    url = reverse("intake_public", kwargs={"slug": intake_form.slug})
    return client.post(url, _answers(intake_form, department, **overrides))


def _registration(intake_form, department, **values) -> Registration:
    answers = {
        "first_name": "Femke", "infix": "van", "last_name": "Dijk", "birth_date": datetime.date(2005, 4, 3),
        "email": "femke@example.org", "postcode": "7001 AB", "house_number": 12,
    }
    answers.update(values)
    return intake.registration_submit(intake_form=intake_form, values=answers, department=department)


# --- the public page ---------------------------------------------------------------------------


def test_it_shows_the_rows_in_their_order_without_a_login(client, intake_form):
    # Move the e-mail row to the top: the page follows the "Rij" column, not the order of creation.
    rows = [{"order": r.order, "label": r.label, "target": r.target, "required": r.required} for r in intake_form.rows.all()]
    next(r for r in rows if r["target"] == "email")["order"] = 1
    intake.intake_form_save(intake_form=intake_form, departments=[], rows=rows)
    response = client.get(reverse("intake_public", kwargs={"slug": intake_form.slug}))
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f'name="f_{target}"') for target in ("email", "first_name", "infix", "last_name", "birth_date")]
    assert positions == sorted(positions)
    assert "We gebruiken je gegevens alleen voor je lidmaatschap." in html
    assert 'name="homepage"' in html


def test_it_marks_required_rows_and_refuses_a_form_without_them(client, federation, intake_form):
    response = _submit(client, intake_form, federation.department11, f_first_name="", f_email="")
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) >= {"f_first_name", "f_email"}
    assert form.fields["f_last_name"].required and not form.fields["f_infix"].required
    assert not Registration.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("f_postcode", "ABCD 12"), ("f_email", "femke-at-example"), ("f_birth_date", "3 april"),
     ("f_house_number", "twaalf"), ("f_birth_date", (TODAY + datetime.timedelta(days=2)).isoformat())],
)
def test_it_refuses_bad_input_at_the_field_and_saves_nothing(client, federation, intake_form, field, value):
    response = _submit(client, intake_form, federation.department11, **{field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Registration.objects.exists()


def test_it_requires_agreeing_to_the_privacy_statement(client, federation, intake_form):
    response = _submit(client, intake_form, federation.department11, privacy=None)
    assert "privacy" in response.context["form"].errors
    assert not Registration.objects.exists()


def test_it_refuses_a_department_the_form_does_not_offer(client, federation, intake_form):
    response = _submit(client, intake_form, federation.department21)
    assert "department" in response.context["form"].errors
    assert not Registration.objects.exists()


def test_it_stores_a_submission_as_a_new_registration_with_everything_sent(client, federation, intake_form):
    response = _submit(client, intake_form, federation.department12)
    assert response.status_code == 302
    assert response.url.endswith("?sent=1")
    registration = Registration.objects.get()
    assert registration.status == RegistrationStatus.NEW
    assert registration.tenant == federation.province1
    assert registration.department == federation.department12
    assert registration.values == {
        "first_name": "Femke", "infix": "van", "last_name": "Dijk", "birth_date": "2005-04-03",
        "email": "femke@example.org", "postcode": "7001 AB", "house_number": 12,
    }
    assert ["Geboortedatum", "birth_date", "03-04-2005"] in registration.data["rows"]
    thanks = client.get(response.url)
    assert thanks.status_code == 200 and "intake-sent" in thanks.content.decode()


def test_it_stores_nothing_when_the_honeypot_is_filled(client, federation, intake_form):
    response = _submit(client, intake_form, federation.department11, homepage="http://spam.example")
    assert response.status_code == 302
    assert not Registration.objects.exists()


def test_it_limits_the_number_of_forms_per_address(client, federation, intake_form, settings):
    settings.INTAKE_RATE_LIMIT = 2
    for n in range(2):
        assert _submit(client, intake_form, federation.department11, f_email=f"a{n}@example.org").status_code == 302
    # A form with a typing error is only corrected, not counted.
    assert _submit(client, intake_form, federation.department11, f_email="fout").status_code == 200
    response = _submit(client, intake_form, federation.department11, f_email="a3@example.org")
    assert response.status_code == 429
    assert "Te veel formulieren" in response.content.decode()
    assert Registration.objects.count() == 2
    # Another address is not affected.
    url = reverse("intake_public", kwargs={"slug": intake_form.slug})
    elsewhere = client.post(url, _answers(intake_form, federation.department11, f_email="c@example.org"),
                            REMOTE_ADDR="192.0.2.7")
    assert elsewhere.status_code == 302 and Registration.objects.count() == 3


def test_it_hides_closed_and_unknown_forms(client, federation, intake_form):
    intake_form.active = False
    intake_form.save()
    assert client.get(reverse("intake_public", kwargs={"slug": intake_form.slug})).status_code == 404
    assert client.get(reverse("intake_public", kwargs={"slug": "bestaat-niet"})).status_code == 404


def test_it_shows_the_public_page_in_a_few_queries(client, intake_form, django_assert_max_num_queries):
    url = reverse("intake_public", kwargs={"slug": intake_form.slug})
    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200


# --- saving a form -----------------------------------------------------------------------------


def test_it_removes_only_the_rows_left_out(federation, intake_form):
    rows = [{"order": r.order, "label": r.label, "target": r.target, "required": r.required}
            for r in intake_form.rows.all() if r.target != "infix"]
    intake.intake_form_save(intake_form=intake_form, departments=[], rows=rows)
    assert [r.target for r in intake_form.rows.all()] == [r["target"] for r in rows]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"order": 1, "label": "Voornaam", "target": "first_name", "required": True}], "achternaam"),
        ([{"order": 1, "label": "Achternaam", "target": "last_name", "required": True},
          {"order": 2, "label": "Nog eens", "target": "last_name", "required": False}], "maar één keer"),
        ([{"order": 1, "label": "Achternaam", "target": "last_name", "required": True},
          {"order": 2, "label": "Wachtwoord", "target": "password", "required": False}], "Onbekend veld"),
    ],
)
def test_it_refuses_a_form_that_cannot_work(federation, intake_form, rows, message):
    before = list(intake_form.rows.values_list("target", flat=True))
    with pytest.raises(ValidationError) as error:
        intake.intake_form_save(intake_form=intake_form, departments=[], rows=rows)
    assert message in " ".join(error.value.messages)
    assert list(intake_form.rows.values_list("target", flat=True)) == before


def test_it_refuses_departments_outside_the_environment(federation, intake_form):
    with pytest.raises(ValidationError) as error:
        intake.intake_form_save(intake_form=intake_form, departments=[federation.department21], rows=[
            {"order": 1, "label": "Achternaam", "target": "last_name", "required": True}])
    assert "departments" in error.value.error_dict


def test_it_edits_a_form_on_the_settings_page(login, federation, intake_form):
    client = login(federation.province_sb)
    url = reverse("intake_form_edit", kwargs={"pk": intake_form.pk})
    assert client.get(url).status_code == 200
    rows = list(intake_form.rows.all())
    data = {
        "name": intake_form.name, "kind": "public", "active": "on", "introduction": "",
        "privacy_statement": "Privacy", "function_type": intake_form.function_type_id,
        "rows-TOTAL_FORMS": len(rows) + 1, "rows-INITIAL_FORMS": len(rows), "rows-MIN_NUM_FORMS": 0,
        "rows-MAX_NUM_FORMS": 60,
    }
    for i, row in enumerate(rows):
        data.update({f"rows-{i}-order": row.order, f"rows-{i}-label": row.label, f"rows-{i}-target": row.target})
        if row.required:
            data[f"rows-{i}-required"] = "on"
    data["rows-1-DELETE"] = "on"  # the infix row
    data.update({f"rows-{len(rows)}-order": 5, f"rows-{len(rows)}-label": "Mobiel", f"rows-{len(rows)}-target": "mobile"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    targets = list(intake_form.rows.values_list("target", flat=True))
    assert targets[0] == "mobile" and "infix" not in targets and len(targets) == len(rows)


# --- duplicates --------------------------------------------------------------------------------


def test_it_finds_duplicate_candidates_by_each_rule(federation, intake_form):
    same_name = make_relation(federation.department11, first_name="Femke", last_name="Dijk", birth_date=datetime.date(2005, 4, 3))
    same_email = make_relation(federation.department12, first_name="F.", last_name="Anders", email="FEMKE@example.org")
    same_address = make_relation(federation.department11, first_name="femke", last_name="Dijk", postcode="7001 AB", house_number=12)
    make_relation(federation.department11, first_name="Piet", last_name="Zus", postcode="7001 AB", house_number=12)
    make_relation(federation.department11, first_name="Femke", last_name="Dijk", birth_date=datetime.date(2001, 1, 1))
    registration = _registration(intake_form, federation.department11)
    found = dict(intake.registration_duplicates(registration, Relation.objects.all()))
    assert set(found) == {same_name, same_email, same_address}
    # The duplicate scan's rules (imports.duplicates): a housemate with another name is no candidate.
    assert found[same_name] == ["zelfde geboortedatum, gelijkende naam"]
    assert found[same_email] == ["zelfde e-mailadres"]
    assert found[same_address] == ["zelfde adres, gelijkende naam"]


def test_it_shows_only_duplicates_the_environment_may_see(login, federation, intake_form):
    make_relation(federation.department21, first_name="Femke", last_name="Dijk", birth_date=datetime.date(2005, 4, 3))
    registration = _registration(intake_form, federation.department11)
    response = login(federation.province_la).get(reverse("registration_detail", kwargs={"pk": registration.pk}))
    assert response.status_code == 200
    assert response.context["candidates"] == []


# --- accepting, linking, rejecting ---------------------------------------------------------------


def test_it_accepts_into_one_relation_with_one_membership(federation, intake_form):
    registration = _registration(intake_form, federation.department11)
    relation = intake.registration_accept(
        actor=federation.province_la, registration=registration, department=federation.department12, start_date=TODAY
    )
    assert Relation.objects.count() == 1
    assert (relation.first_name, relation.infix, relation.last_name, relation.tenant) == ("Femke", "van", "Dijk", federation.department12)
    assert relation.birth_date == datetime.date(2005, 4, 3) and relation.house_number == 12
    membership = Function.objects.get(relation=relation)
    assert (membership.function_type.code, membership.tenant, membership.start_date) == ("department_member", federation.department12, TODAY)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.ACCEPTED and registration.relation == relation
    assert registration.decided_by == federation.province_la


def test_it_refuses_to_accept_twice(federation, intake_form):
    registration = _registration(intake_form, federation.department11)
    intake.registration_accept(actor=federation.province_la, registration=registration,
                               department=federation.department11, start_date=TODAY)
    with pytest.raises(ValidationError, match="al afgehandeld"):
        intake.registration_accept(actor=federation.province_la, registration=registration,
                                   department=federation.department11, start_date=TODAY)
    assert Relation.objects.count() == 1 and Function.objects.count() == 1


def test_it_answers_a_double_click_on_accept_with_a_message(login, federation, intake_form):
    registration = _registration(intake_form, federation.department11)
    client = login(federation.province_la)
    url = reverse("registration_accept", kwargs={"pk": registration.pk})
    data = {"department": federation.department11.pk, "start_date": TODAY.isoformat()}
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == 302 and second.status_code == 302
    assert second.url == reverse("registration_detail", kwargs={"pk": registration.pk})
    assert Relation.objects.count() == 1 and Function.objects.count() == 1
    page = client.get(second.url)
    assert "al afgehandeld" in page.content.decode()


def test_it_keeps_nothing_half_done_when_accepting_fails(federation, intake_form):
    # A required custom field the form does not ask for: the card cannot be made, so the
    # registration stays new and nothing is created.
    from relations.models import CustomField

    CustomField.objects.create(tenant=federation.province1, code="diploma", label="Diploma", field_type="text", required=True)
    registration = _registration(intake_form, federation.department11)
    with pytest.raises(ValidationError):
        intake.registration_accept(actor=federation.province_la, registration=registration,
                                   department=federation.department11, start_date=TODAY)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.NEW
    assert not Relation.objects.exists() and not Function.objects.exists()


def test_it_links_a_registration_to_an_existing_relation(login, federation, intake_form):
    existing = make_relation(federation.department11, first_name="Femke", last_name="Dijk",
                             birth_date=datetime.date(2005, 4, 3), function_code="department_board_member")
    registration = _registration(intake_form, federation.department11)
    client = login(federation.province_la)
    response = client.post(reverse("registration_link", kwargs={"pk": registration.pk}), {
        "relation": existing.pk, "department": federation.department11.pk, "start_date": TODAY.isoformat()})
    assert response.status_code == 302
    assert Relation.objects.count() == 1
    assert Function.objects.filter(relation=existing, function_type__code="department_member").count() == 1
    registration.refresh_from_db()
    assert registration.relation == existing and registration.status == RegistrationStatus.ACCEPTED


def test_it_refuses_to_link_to_a_relation_that_is_no_candidate(login, federation, intake_form):
    other = make_relation(federation.department11, first_name="Piet", last_name="Anders")
    registration = _registration(intake_form, federation.department11)
    response = login(federation.province_la).post(reverse("registration_link", kwargs={"pk": registration.pk}), {
        "relation": other.pk, "department": federation.department11.pk, "start_date": TODAY.isoformat()})
    assert response.status_code == 200
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.NEW


def test_it_rejects_with_a_reason_and_keeps_the_data(login, federation, intake_form):
    registration = _registration(intake_form, federation.department11)
    client = login(federation.province_la)
    url = reverse("registration_reject", kwargs={"pk": registration.pk})
    assert client.post(url, {"reason": ""}).status_code == 200
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.NEW
    assert client.post(url, {"reason": "Woont buiten het werkgebied"}).status_code == 302
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.REJECTED
    assert registration.rejection_reason == "Woont buiten het werkgebied"
    assert registration.values["email"] == "femke@example.org"
    page = client.get(reverse("registration_detail", kwargs={"pk": registration.pk})).content.decode()
    assert "femke@example.org" in page and "Woont buiten het werkgebied" in page
    assert not Relation.objects.exists()


def test_it_lists_registrations_by_status(login, federation, intake_form, django_assert_max_num_queries):
    for n in range(3):
        _registration(intake_form, federation.department11, email=f"r{n}@example.org")
    rejected = _registration(intake_form, federation.department11, email="x@example.org")
    intake.registration_reject(actor=federation.province_la, registration=rejected, reason="Dubbel")
    client = login(federation.province_la)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("registration_list"))
    assert len(response.context["page"].object_list) == 3
    assert len(client.get(reverse("registration_list") + "?status=rejected").context["page"].object_list) == 1


def test_it_lets_a_department_administrator_enter_a_registration(login, federation):
    department_form = make_intake_form(federation.province1, name="2 variaties", kind="department")
    client = login(federation.department_la)
    url = reverse("intake_fill", kwargs={"pk": department_form.pk})
    page = client.get(url)
    assert list(page.context["form"].fields["department"].queryset) == [federation.department11]
    data = _answers(department_form, federation.department11)
    response = client.post(url, data)
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert registration.submitted_by == federation.department_la
    assert registration.department == federation.department11


# --- status actions ----------------------------------------------------------------------------


def test_it_mails_the_applicant_and_informs_the_function_holders_on_new(federation, intake_form, django_capture_on_commit_callbacks):
    holder = make_relation(federation.province1, first_name="Ria", last_name="Admin", email="ria@example.org",
                           function_code="province_board_member")
    intake_form.new_template = make_mail_template(federation.national, name="Bedankt", attach_pdf=False,
                                                  email_subject="Bedankt [firstname]")
    intake_form.new_notify_function = FunctionType.objects.get(code="province_board_member")
    intake_form.save()
    with django_capture_on_commit_callbacks(execute=True):
        registration = _registration(intake_form, federation.department11)
    subjects = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert subjects == [("femke@example.org", "Bedankt Femke"), ("ria@example.org", "Nieuwe inschrijving: Femke van Dijk")]
    notice = CommunicationEntry.objects.get(relation=holder)
    assert notice.channel == "email" and f"/registrations/{registration.pk}/" in notice.body


def test_it_sends_the_confirmation_with_its_pdf_on_accepted(federation, intake_form, django_capture_on_commit_callbacks):
    intake_form.accepted_template = make_mail_template(federation.national)
    intake_form.save()
    registration = _registration(intake_form, federation.department11)
    with django_capture_on_commit_callbacks(execute=True):
        relation = intake.registration_accept(actor=federation.province_la, registration=registration,
                                              department=federation.department11, start_date=TODAY)
    [sent] = mail.outbox
    assert sent.to == ["femke@example.org"] and sent.subject == "Welkom Femke"
    assert "Welkom bij Afdeling 1.1." in sent.body
    [(filename, content, mimetype)] = sent.attachments
    assert filename == "bevestiging.pdf" and mimetype == "application/pdf" and content.startswith(b"%PDF")
    entry = CommunicationEntry.objects.get(relation=relation)
    assert entry.subject == "Welkom Femke" and "Welkom bij Afdeling 1.1." in entry.body
    assert entry.attachment.read() == content


def test_it_seeds_demo_forms_and_templates_once(db):
    from django.core.management import call_command

    from notifications.models import MailTemplate

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    assert IntakeForm.objects.filter(name="Inschrijfform_nieuw").count() == 12
    confirmation = MailTemplate.objects.get(name="Nieuw lid (inschrijving)")
    assert confirmation.tenant.is_root() and confirmation.attach_pdf
    form = IntakeForm.objects.get(tenant__name="Provincie Gelderland")
    assert form.accepted_template == confirmation and form.rows.count() == 12


def test_it_shows_a_registration_in_a_few_queries(login, federation, intake_form, django_assert_max_num_queries):
    for n in range(5):
        make_relation(federation.department11, first_name="Femke", last_name=f"Dijk{n}", email="femke@example.org")
    registration = _registration(intake_form, federation.department11)
    client = login(federation.province_la)
    url = reverse("registration_detail", kwargs={"pk": registration.pk})
    # Session, grants, environment, registration, candidates (one query for all, with their
    # home), the departments of each decision form, mails, navigation: not one per candidate.
    with django_assert_max_num_queries(17):
        response = client.get(url)
    assert len(response.context["candidates"]) == 5
    html = response.content.decode()
    # Three forms on one page, each with its own element ids.
    assert html.count('id="accept_department"') == 1 and html.count('id="link_department"') == 1


def test_it_keeps_the_registration_when_an_administrators_address_is_unusable(federation, intake_form, django_capture_on_commit_callbacks):
    good = make_relation(federation.province1, last_name="Goed", email="goed@example.org", function_code="province_board_member")
    bad = make_relation(federation.province1, last_name="Fout", function_code="province_board_member")
    Relation.objects.filter(pk=bad.pk).update(email="geen adres")  # legacy data, never through the form
    intake_form.new_notify_function = FunctionType.objects.get(code="province_board_member")
    intake_form.save()
    with django_capture_on_commit_callbacks(execute=True):
        _registration(intake_form, federation.department11)
    assert Registration.objects.count() == 1
    assert [m.to for m in mail.outbox] == [["goed@example.org"]]
    assert CommunicationEntry.objects.filter(relation=good).count() == 1


def test_it_offers_a_department_administrator_the_forms_for_their_department_not_the_list(login, federation, intake_form):
    _registration(intake_form, federation.department12)
    make_intake_form(federation.national, name="Provincie 2", departments=[federation.department21])
    response = login(federation.department_la).get(reverse("registration_list"))
    assert response.status_code == 200
    assert [f.name for f in response.context["fillable"]] == [intake_form.name]
    assert not response.context["can_view"]
    assert "registration-row" not in response.content.decode()


def test_it_pages_the_registrations(login, federation, intake_form, settings):
    from intake import views as views_intake

    for n in range(views_intake.REGISTRATIONS_PER_PAGE + 2):
        _registration(intake_form, federation.department11, email=f"p{n}@example.org")
    client = login(federation.province_la)

    first = client.get(reverse("registration_list"))
    second = client.get(reverse("registration_list") + "?status=new&page=2")

    assert len(first.context["page"].object_list) == views_intake.REGISTRATIONS_PER_PAGE
    assert len(second.context["page"].object_list) == 2
    assert "page=2" in first.content.decode()


# --- a direct-debit mandate on the form (SPEC B3) ----------------------------------------------------


def _with_mandate_row(intake_form: IntakeForm) -> IntakeForm:
    rows = [{"order": r.order, "label": r.label, "target": r.target, "required": r.required} for r in intake_form.rows.all()]
    rows.append({"order": 99, "label": "Rekeningnummer voor de contributie", "target": intake.MANDATE_TARGET,
                 "required": False})
    intake.intake_form_save(intake_form=intake_form, departments=[], rows=rows)
    return intake_form


def test_it_offers_a_mandate_row_only_where_an_environment_bills(federation, intake_form):
    targets = {value for value, _label in intake.target_choices(federation.province1)}
    assert intake.MANDATE_TARGET not in targets
    billing_environment(federation.province1)
    assert intake.MANDATE_TARGET in {value for value, _label in intake.target_choices(federation.province1)}
    # A department below a province that bills may ask for it too.
    assert intake.MANDATE_TARGET in {value for value, _label in intake.target_choices(federation.department11)}


@pytest.mark.parametrize(("iban", "consent", "field", "message"), [
    ("NL92ABNA0417164300", "on", "f_mandate_iban", "controlecijfer"),
    ("NL20INGB0001234567", None, "mandate_consent", "machtiging"),
    ("", "on", "f_mandate_iban", "IBAN"),
])
def test_it_refuses_a_wrong_iban_or_a_missing_authorisation_at_the_field(
    client, federation, intake_form, iban, consent, field, message
):
    billing_environment(federation.province1)
    _with_mandate_row(intake_form)
    response = _submit(client, intake_form, federation.department11, f_mandate_iban=iban, mandate_consent=consent)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Registration.objects.exists()


def test_it_records_the_mandate_with_the_billing_environment_on_accepting(client, federation, intake_form):
    billing_environment(federation.province1)
    _with_mandate_row(intake_form)
    page = client.get(reverse("intake_public", kwargs={"slug": intake_form.slug})).content.decode()
    assert 'name="f_mandate_iban"' in page and 'name="mandate_consent"' in page
    _submit(client, intake_form, federation.department11, f_mandate_iban="nl20 ingb 0001 2345 67", mandate_consent="on")
    registration = Registration.objects.get()
    assert registration.values[intake.MANDATE_TARGET] == "NL20INGB0001234567"
    relation = intake.registration_accept(actor=federation.province_la, registration=registration,
                                          department=federation.department11, start_date=TODAY)
    [mandate] = Mandate.objects.all()
    assert (mandate.tenant, mandate.relation, mandate.iban, mandate.bic) == (
        federation.province1, relation, "NL20INGB0001234567", "INGBNL2A"
    )
    assert mandate.signed_on == TODAY and mandate.sequence_type == "FRST"
