"""The member portal (issue 18, SPEC L2) as a member meets it: logging in by a one-time link,
correcting the address and seeing it in the history, the membership card (page, PDF, QR
verification), the download of one's own data, preferences honoured by documents; and the bad
input: expired, reused or forged links, a card without an e-mail address, wrong form values."""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from pypdf import PdfReader

from memberships.models import Function
from notifications.models import DocumentJob
from portal import services
from portal.models import LoginLink
from relations.models import ChangeRequest, CommunicationEntry, CommunicationType, Relation
from relations.services import approval_setting_set, communication_preferences_set
from tenants.models import RoleAssignment, User
from tests.factories import make_mail_template, make_relation

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/portal/login/[^/\s]+/)")


# The member of these tests and of the browser test (tests/e2e/test_portal.py).
MEMBER_DATA = {
    "first_name": "Anna",
    "last_name": "Mulder",
    "email": "anna@example.org",
    "postcode": "1234 AB",
    "house_number": 5,
    "street": "Dorpsstraat",
    "city": "Ergens",
}


@pytest.fixture
def member(federation):
    return make_relation(federation.department11, **MEMBER_DATA)


def _ask_link(client, mailoutbox, email, capture):
    with capture(execute=True):
        response = client.post(reverse("portal_login"), {"email": email})
    assert response.status_code == 200
    return response


def _link_path(mail) -> str:
    return LINK.search(mail.body).group(1)


def _log_in(client, mailoutbox, capture, email="anna@example.org"):
    _ask_link(client, mailoutbox, email, capture)
    path = _link_path(mailoutbox[-1])
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 302 and response.url == reverse("portal_home")
    return path


def test_it_logs_a_member_in_by_link_and_makes_a_login_without_a_role(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    _log_in(client, mailoutbox, django_capture_on_commit_callbacks)
    member.refresh_from_db()
    user = member.user
    assert user is not None and user.email == "anna@example.org" and not user.has_usable_password()
    assert not RoleAssignment.objects.filter(user=user).exists()
    page = client.get(reverse("portal_home"))
    assert page.status_code == 200
    assert "Anna Mulder" in page.content.decode() and str(member.number) in page.content.decode()
    # The mail is in the communication log, without the personal link.
    entry = CommunicationEntry.objects.get(relation=member, channel="email")
    assert services.LINK_PLACEHOLDER in entry.body and "/portal/login/" not in entry.body.replace(
        "/portal/login/.", ""
    )


def test_it_refuses_a_reused_link_and_logs_nobody_in(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    path = _log_in(client, mailoutbox, django_capture_on_commit_callbacks)
    client.post(reverse("logout"))
    response = client.post(path)
    assert response.status_code == 400
    assert "al gebruikt" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_refuses_an_expired_link(client, member, mailoutbox, django_capture_on_commit_callbacks):
    _ask_link(client, mailoutbox, "anna@example.org", django_capture_on_commit_callbacks)
    LoginLink.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = client.post(_link_path(mailoutbox[-1]))
    assert response.status_code == 400
    assert "verlopen" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert LoginLink.objects.get().used_at is None


def test_it_refuses_a_forged_or_altered_link(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    _ask_link(client, mailoutbox, "anna@example.org", django_capture_on_commit_callbacks)
    link = LoginLink.objects.get()
    forged = signing.dumps({"l": link.pk, "n": "guessed"}, salt=services.LINK_SALT)
    for token in (forged, "abc", _link_path(mailoutbox[-1]).split("/")[3][:-2] + "xx"):
        response = client.post(reverse("portal_login_link", args=[token]))
        assert response.status_code == 400
        assert "niet geldig" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_tells_nothing_about_unknown_addresses_and_sends_nothing(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    known = _ask_link(client, mailoutbox, "anna@example.org", django_capture_on_commit_callbacks)
    unknown = _ask_link(
        client, mailoutbox, "niemand@example.org", django_capture_on_commit_callbacks
    )
    assert len(mailoutbox) == 1

    def main(response, email):
        page = response.content.decode()
        return page[page.index("<main") : page.index("</main>")].replace(email, "X")

    assert main(known, "anna@example.org") == main(unknown, "niemand@example.org")


def test_it_tells_a_member_without_an_email_address_to_ask_the_department(client, federation):
    make_relation(federation.department11, first_name="Piet", last_name="Zonder")
    page = client.get(reverse("portal_login")).content.decode()
    assert "Vraag de ledenadministratie van je afdeling" in page
    response = client.post(reverse("portal_login"), {"email": "geen-adres"})
    assert response.status_code == 200
    assert "Voer een geldig e-mailadres in" in response.content.decode()
    assert (
        not LoginLink.objects.exists() and not User.objects.filter(relation__isnull=False).exists()
    )


def test_it_lets_the_member_correct_the_address_and_shows_it_in_the_history(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    _log_in(client, mailoutbox, django_capture_on_commit_callbacks)
    data = {
        "email": "anna@example.org",
        "phone": "",
        "mobile": "",
        "postcode": "9999zz",
        "house_number": "12",
        "house_number_suffix": "a",
        "street": "Nieuwe Weg",
        "city": "Anders",
        "country": "NL",
    }
    response = client.post(reverse("portal_contact_edit"), data)
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.postcode, member.house_number, member.street, member.city) == (
        "9999 ZZ",
        12,
        "Nieuwe Weg",
        "Anders",
    )
    history = client.get(reverse("portal_history")).content.decode()
    assert "Nieuwe Weg" in history and "Dorpsstraat" in history
    assert f"{member.user.username} (het lid)" in history


def test_it_refuses_wrong_values_with_a_dutch_message_and_writes_nothing(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    _log_in(client, mailoutbox, django_capture_on_commit_callbacks)
    before = Relation.history.filter(id=member.pk).count()
    bad = {
        "email": "geen-adres",
        "phone": "",
        "mobile": "",
        "postcode": "12",
        "house_number": "-3",
        "house_number_suffix": "",
        "street": "x" * 500,
        "city": "Anders",
        "country": "XX",
    }
    response = client.post(reverse("portal_contact_edit"), bad)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Voer een geldig e-mailadres in" in page
    assert "Selecteer een geldige keuze" in page
    assert Relation.history.filter(id=member.pk).count() == before
    member.refresh_from_db()
    assert member.street == "Dorpsstraat"
    # An empty e-mail address would lock the member out of the portal.
    response = client.post(reverse("portal_contact_edit"), {**bad, "email": "", "country": "NL"})
    assert response.status_code == 200 and "Dit veld is verplicht" in response.content.decode()


def test_it_makes_chosen_fields_wait_for_the_department(
    client, member, federation, mailoutbox, django_capture_on_commit_callbacks
):
    approval_setting_set(
        actor=federation.national_sb, federation=federation.national, fields=["street", "city"]
    )
    _log_in(client, mailoutbox, django_capture_on_commit_callbacks)
    data = {
        "email": "anna@example.org",
        "phone": "0612345678",
        "mobile": "",
        "postcode": "1234 AB",
        "house_number": "5",
        "house_number_suffix": "",
        "street": "Andere Straat",
        "city": "Elders",
        "country": "NL",
    }
    assert client.post(reverse("portal_contact_edit"), data).status_code == 302
    member.refresh_from_db()
    assert member.phone == "0612345678" and member.street == "Dorpsstraat"
    request = ChangeRequest.objects.get(relation=member)
    assert request.values == {"street": "Andere Straat", "city": "Elders"}
    assert "wacht op goedkeuring" in client.get(reverse("portal_home")).content.decode()


def test_it_shows_the_card_and_gives_its_pdf(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    _log_in(client, mailoutbox, django_capture_on_commit_callbacks)
    page = client.get(reverse("portal_card")).content.decode()
    assert (
        "Anna Mulder" in page
        and str(member.number) in page
        and "Afdeling 1.1" in page
        and "<svg" in page
    )
    response = client.get(reverse("portal_card_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    for expected in (
        "Anna Mulder",
        str(member.number),
        "Afdeling 1.1",
        str(datetime.date.today().year),
    ):
        assert expected in text


def test_it_verifies_a_card_showing_validity_only(client, member, federation):
    card = services.membership_cards(member)[0]
    path = card.verify_url.removeprefix("http://testserver")
    page = client.get(path).content.decode()
    assert "Geldig lid van Afdeling 1.1" in page
    for personal in ("Anna", "Mulder", str(member.number), "anna@example.org", "Dorpsstraat"):
        assert personal not in page


def test_it_shows_nothing_for_a_forged_or_guessed_verification_url(client, member, federation):
    token = services.card_token(services.membership_cards(member)[0].membership)
    other = make_relation(federation.department11, first_name="Bert", last_name="Ander")
    guessed = signing.dumps({"r": other.pk, "t": federation.department11.pk})
    tampered = token.replace(
        token.split(":")[0], signing.Signer().sign_object({"r": other.pk})[:10]
    )
    for bad in (guessed, tampered, "1", "x" * 300):
        response = client.get(reverse("portal_card_verify", args=[bad]))
        assert response.status_code == 404
        page = response.content.decode()
        assert "Geldig lid" not in page and "Afdeling 1.1" not in page and "Bert" not in page


def test_it_gives_the_member_all_their_data(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    _log_in(client, mailoutbox, django_capture_on_commit_callbacks)
    response = client.get(reverse("portal_personal_data"))
    assert response.status_code == 200
    document = json.loads(
        zipfile.ZipFile(io.BytesIO(response.content)).read("persoonsgegevens.json")
    )
    assert document["relation_number"] == member.number
    assert document["card"][0]["email"] == "anna@example.org"


def test_it_keeps_the_members_preferences(
    client, member, federation, mailoutbox, django_capture_on_commit_callbacks
):
    news = CommunicationType.objects.create(
        tenant=federation.national, code="news", name="Nieuwsbrief"
    )
    CommunicationType.objects.create(
        tenant=federation.province2, code="other", name="Andere provincie"
    )
    _log_in(client, mailoutbox, django_capture_on_commit_callbacks)
    page = client.get(reverse("portal_preferences")).content.decode()
    assert "Nieuwsbrief" in page and "Andere provincie" not in page
    assert client.post(reverse("portal_preferences"), {}).status_code == 302
    assert list(member.communication_refusals.values_list("communication_type", flat=True)) == [
        news.pk
    ]
    client.post(reverse("portal_preferences"), {f"type_{news.pk}": "on"})
    assert not member.communication_refusals.exists()


def test_it_sends_no_documents_of_a_refused_type(
    login, member, federation, django_capture_on_commit_callbacks
):
    news = CommunicationType.objects.create(
        tenant=federation.national, code="news", name="Nieuwsbrief"
    )
    other = make_relation(
        federation.department11, first_name="Bert", last_name="Ander", email="bert@example.org"
    )
    communication_preferences_set(relation=member, refused={news.pk})
    template = make_mail_template(federation.national, name="Nieuwsbrief", communication_type=news)
    client = login(federation.province_la)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("documents_send"),
            {
                "relation": [member.pk, other.pk],
                "template": template.pk,
                "by_email": "on",
                "action": "send",
            },
        )
    job = DocumentJob.objects.get()
    assert (job.status, job.mailed, job.letters, job.refused) == ("done", 1, 0, 1)
    assert [m.to for m in mail.outbox] == [["bert@example.org"]]
    assert not CommunicationEntry.objects.filter(
        relation=member, channel__in=["email", "letter"]
    ).exists()
    assert (
        "1 relatie wil dit soort post niet"
        in client.get(reverse("document_job_detail", args=[job.pk])).content.decode()
    )


def test_it_asks_for_the_second_factor_after_the_link(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    user = services.member_login_ensure(actor=None, relation=member)
    TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    _ask_link(client, mailoutbox, "anna@example.org", django_capture_on_commit_callbacks)
    response = client.post(_link_path(mailoutbox[-1]))
    # The link is the first step only: nobody is logged in until the code is given.
    assert response.status_code == 302 and response.url == reverse("login_two_factor")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("portal_home")).status_code == 302


def test_it_logs_in_no_blocked_login(
    client, member, mailoutbox, django_capture_on_commit_callbacks
):
    _ask_link(client, mailoutbox, "anna@example.org", django_capture_on_commit_callbacks)
    User.objects.filter(relation=member).update(is_active=False)
    response = client.post(_link_path(mailoutbox[-1]))
    assert response.status_code == 400 and "geblokkeerd" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_invites_a_selection_and_reports_cards_without_an_address(
    login, member, federation, mailoutbox, django_capture_on_commit_callbacks
):
    without = make_relation(federation.department11, first_name="Piet", last_name="Zonder")
    client = login(federation.department_la)
    page = client.get(
        reverse("portal_invite_selection"), {"relation": [member.pk, without.pk]}
    ).content.decode()
    assert "Piet Zonder" in page and "anna@example.org" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal_invite_selection"), {"relation": [member.pk, without.pk], "next": ""}
        )
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["anna@example.org"]]
    assert "uitnodiging" in mailoutbox[0].subject.lower()
    assert LoginLink.objects.get().purpose == LoginLink.Purpose.INVITATION
    assert not User.objects.filter(relation=without).exists()
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("Piet Zonder" in m and "geen e-mailadres" in m for m in messages)


def test_the_department_approves_or_rejects_a_waiting_correction(
    client, login, member, federation, mailoutbox, django_capture_on_commit_callbacks
):
    approval_setting_set(
        actor=federation.national_sb, federation=federation.national, fields=["street"]
    )
    _log_in(client, mailoutbox, django_capture_on_commit_callbacks)
    data = {
        "email": "anna@example.org",
        "phone": "",
        "mobile": "",
        "postcode": "1234 AB",
        "house_number": "5",
        "house_number_suffix": "",
        "street": "Andere Straat",
        "city": "Ergens",
        "country": "NL",
    }
    client.post(reverse("portal_contact_edit"), data)
    request = ChangeRequest.objects.get(relation=member)
    administrator = login(federation.department_la)
    page = administrator.get(reverse("ledenmodule_change_requests")).content.decode()
    assert "Andere Straat" in page and "Dorpsstraat" in page
    response = administrator.post(
        reverse("ledenmodule_change_requests"), {"request": request.pk, "decision": "approve"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.street == "Andere Straat"
    record = Relation.history.filter(id=member.pk).latest("history_date")
    assert record.history_user_id == member.user_id
    # Decided once: a second decision is refused and changes nothing.
    response = administrator.post(
        reverse("ledenmodule_change_requests"), {"request": request.pk, "decision": "reject"}
    )
    assert response.status_code == 404
    assert ChangeRequest.objects.get(pk=request.pk).status == ChangeRequest.Status.APPROVED


@pytest.mark.parametrize(("ends_in_days", "current"), [(0, False), (1, True)])
def test_it_lists_a_membership_ending_today_as_past_and_one_ending_tomorrow_as_current(
    client, member, mailoutbox, django_capture_on_commit_callbacks, ends_in_days, current
):
    # The end date is the first day a function no longer holds (docs/definitions.md).
    today = timezone.localdate()
    membership = Function.objects.get(relation=member)
    Function.objects.filter(pk=membership.pk).update(end_date=today + datetime.timedelta(days=ends_in_days))
    functions = services.member_functions(member, today)
    assert ([f.pk for f in functions.current], [f.pk for f in functions.past]) == (
        ([membership.pk], []) if current else ([], [membership.pk])
    )
    _log_in(client, mailoutbox, django_capture_on_commit_callbacks)
    page = client.get(reverse("portal_home")).content.decode()
    assert ('data-testid="functions-current-none"' in page) is not current
    assert ('data-testid="functions-past-none"' in page) is current
