"""Mail templates, tokens and rendering (SPEC I4): the registry, unknown tokens refused, escaping
in mail and PDF, a valid PDF with the expected text, a URL fetcher that stays inside our static and
media files, inheritance and copying, the preview and test pages."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from notifications.models import MailTemplate
from notifications.rendering import (
    DOCUMENT_BASE_URL,
    OwnFilesFetcher,
    html_to_pdf,
    mail_render,
    pdf_render,
)
from notifications.services import mail_template_copy, templates_for, token_context_for
from notifications.tokens import TOKENS, TokenContext, tokens_render, tokens_unknown
from relations.models import ExportLog
from tests.factories import make_mail_template, make_relation

pytestmark = pytest.mark.django_db


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _png(size=(4, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "green").save(buffer, format="PNG")
    return buffer.getvalue()


# --- tokens ------------------------------------------------------------------------------------


def test_it_knows_the_tokens_the_issue_names():
    assert {"firstname", "lastname", "relationnumber", "department", "membership", "startdate", "iban"} <= set(TOKENS)


def test_it_lists_unknown_tokens_once_in_order():
    assert tokens_unknown("Beste [firstname] [voornaam], [lidnr] en [voornaam]") == ["voornaam", "lidnr"]
    assert tokens_unknown("Geen tokens; [ ] en [a b] zijn gewone tekst") == []


def test_it_fills_in_the_tokens_of_a_relation(federation):
    relation = make_relation(federation.department11, first_name="Jan", infix="de", last_name="Vries",
                             extra={}, email="jan@example.org")
    context = token_context_for(relation, federation.province1)
    text = tokens_render("[firstname] [infix] [lastname] ([relationnumber]) · [department] · [membership] · [province]", context)
    assert text == f"Jan de Vries ({relation.number}) · Afdeling 1.1 · Lid (afdelingsleden) · Provincie 1"


def test_it_refuses_a_template_with_an_unknown_token(login, federation):
    client = login(federation.province_sb)
    response = client.post(reverse("mail_template_create"), {
        "name": "Welkom", "email_subject": "Hoi [voornaam]", "email_text": "Tekst", "pdf_filename": "brief",
        "body_1": "[firstname] [lidnummer]",
    })
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "[voornaam]" in errors["email_subject"][0] and "[lidnummer]" in errors["body_1"][0]
    assert not MailTemplate.objects.exists()


def test_it_refuses_an_oversized_or_non_image_logo(login, federation, settings):
    settings.LOGO_MAX_BYTES = 100
    client = login(federation.province_sb)
    data = {"name": "Welkom", "email_subject": "Hoi", "email_text": "Tekst", "pdf_filename": "brief"}
    big = client.post(reverse("mail_template_create"), {**data, "logo": SimpleUploadedFile("logo.png", _png((200, 200)), "image/png")})
    assert "logo" in big.context["form"].errors
    text = client.post(reverse("mail_template_create"), {**data, "logo": SimpleUploadedFile("logo.png", b"not an image", "image/png")})
    assert "logo" in text.context["form"].errors
    assert not MailTemplate.objects.exists()


def test_it_searches_the_token_dictionary(login, federation):
    client = login(federation.department_la)
    response = client.get(reverse("token_dictionary"), {"q": "afdeling"})
    keys = [token.key for token in response.context["tokens"]]
    assert "department" in keys and "firstname" not in keys
    assert len(client.get(reverse("token_dictionary")).context["tokens"]) == len(TOKENS)


# --- rendering ---------------------------------------------------------------------------------


def test_it_escapes_token_values_in_mail_and_pdf(federation):
    relation = make_relation(federation.department11, first_name="<script>alert(1)</script>", last_name="<b>Vet</b>")
    template = make_mail_template(federation.national, email_text="Hallo [firstname] [lastname]",
                                  body_1="Hallo [firstname] [lastname]")
    context = token_context_for(relation, federation.national)
    rendered = mail_render(template, context)
    assert "<script>" not in rendered.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "&lt;b&gt;Vet&lt;/b&gt;" in rendered.html
    text = _pdf_text(pdf_render(template, [context]))
    assert "<script>alert(1)</script>" in text and "<b>Vet</b>" in text


def test_it_renders_a_valid_pdf_with_the_expected_text(federation):
    relation = make_relation(federation.department11, first_name="Femke", last_name="Dijk")
    template = make_mail_template(federation.national, header="Ledenadministratie", footer="[organisation]")
    pdf = pdf_render(template, [token_context_for(relation, federation.national)])
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = _pdf_text(pdf)
    assert "Beste Femke Dijk" in text and "Je bent lid van Afdeling 1.1" in text and "Testfederatie" in text


def test_it_puts_the_environment_logo_in_the_header(federation):
    from django.core.files.base import ContentFile

    federation.national.logo.save("logo.png", ContentFile(_png()), save=True)
    template = make_mail_template(federation.national)
    fetched = []

    class Recording(OwnFilesFetcher):
        def fetch(self, url, headers=None):
            fetched.append(url)
            return super().fetch(url, headers)

    from weasyprint import HTML

    from notifications.rendering import document_html

    html = document_html(template, [token_context_for(make_relation(federation.department11), federation.national)])
    HTML(string=html, base_url=DOCUMENT_BASE_URL, url_fetcher=Recording()).write_pdf()
    assert fetched == [f"{DOCUMENT_BASE_URL}media/{federation.national.logo.name}"]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:8000/admin/",
        "https://example.org/logo.png",
        f"{DOCUMENT_BASE_URL}media/../../../../etc/passwd",
        f"{DOCUMENT_BASE_URL}media/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"{DOCUMENT_BASE_URL}static/../../../etc/passwd",
        f"{DOCUMENT_BASE_URL}manage.py",
    ],
)
def test_it_never_fetches_files_outside_static_and_media(url):
    with pytest.raises(ValueError):
        OwnFilesFetcher().fetch(url)


def test_it_serves_our_own_static_files_to_weasyprint():
    response = OwnFilesFetcher().fetch(f"{DOCUMENT_BASE_URL}static/favicon.svg")
    assert b"<svg" in response.read()


def test_it_leaves_out_an_image_outside_static_and_media_in_a_pdf(tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(_png())
    fetched = []

    class Recording(OwnFilesFetcher):
        def fetch(self, url, headers=None):
            fetched.append(url)
            return super().fetch(url, headers)

    from weasyprint import HTML

    html = f'<p>Tekst</p><img src="file://{secret}"><img src="https://example.org/x.png"><link rel="stylesheet" href="/etc/passwd">'
    pdf = HTML(string=html, base_url=DOCUMENT_BASE_URL, url_fetcher=Recording()).write_pdf()
    assert pdf.startswith(b"%PDF") and len(fetched) == 3
    assert html_to_pdf("<p>Tekst</p>").startswith(b"%PDF")


# --- inheritance, copying, pages ---------------------------------------------------------------


def test_it_offers_templates_of_the_environments_above(federation):
    national = make_mail_template(federation.national, name="Landelijk")
    province = make_mail_template(federation.province1, name="Provincie")
    make_mail_template(federation.province2, name="Andere provincie")
    assert set(templates_for(federation.department11)) == {national, province}
    assert set(templates_for(federation.national)) == {national}


def test_it_copies_a_national_template_into_a_province_and_keeps_the_original(login, federation):
    original = make_mail_template(federation.national, name="Nieuw lid (inschrijving)")
    client = login(federation.province_sb)
    response = client.post(reverse("mail_template_copy", kwargs={"pk": original.pk}))
    copy = MailTemplate.objects.get(tenant=federation.province1)
    assert response.url == reverse("mail_template_edit", kwargs={"pk": copy.pk})
    assert copy.name == "Kopie van Nieuw lid (inschrijving)" and copy.copied_from == original
    assert copy.body_1 == original.body_1
    assert mail_template_copy(template=original, tenant=federation.province1).name == "Kopie van Nieuw lid (inschrijving) (2)"
    # The province changes its copy, not the national original.
    assert client.get(reverse("mail_template_edit", kwargs={"pk": original.pk})).status_code == 404


def test_it_previews_a_template_for_a_relation_and_for_an_example(login, federation):
    relation = make_relation(federation.department11, first_name="Femke", last_name="Dijk")
    template = make_mail_template(federation.national)
    client = login(federation.province_la)
    url = reverse("mail_template_preview", kwargs={"pk": template.pk})
    assert client.get(url, {"relation": relation.pk}).context["mail"].subject == "Welkom Femke"
    assert client.get(url).context["mail"].subject == "Welkom Jan"
    other = make_relation(federation.department21, first_name="Geheim")
    assert client.get(url, {"relation": other.pk}).status_code == 404


def test_it_renders_the_test_pdf(login, federation):
    relation = make_relation(federation.department11, first_name="Femke", last_name="Dijk")
    template = make_mail_template(federation.national)
    response = login(federation.province_sb).get(reverse("mail_template_pdf", kwargs={"pk": template.pk}), {"relation": relation.pk})
    assert response["Content-Type"] == "application/pdf"
    assert "Beste Femke Dijk" in _pdf_text(response.content)
    # A letter with a person's data is a download of personal data; the example is not.
    [log] = ExportLog.objects.all()
    assert (log.user, log.format) == (federation.province_sb, "pdf") and str(relation.number) in log.what
    login(federation.province_sb).get(reverse("mail_template_pdf", kwargs={"pk": template.pk}))
    assert ExportLog.objects.count() == 1


def test_it_lists_the_templates_in_a_few_queries(login, federation, django_assert_max_num_queries):
    for n in range(5):
        make_mail_template(federation.national, name=f"Sjabloon {n}")
    client = login(federation.province_sb)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("mail_template_list"))
    assert len(response.context["templates"]) == 5


def test_it_uses_the_context_of_a_registration_without_a_relation(federation):
    template = make_mail_template(federation.national, email_text="[registration_summary]")
    context = TokenContext(tenant=federation.national, registration_rows=[("Voornaam", "Femke")])
    assert mail_render(template, context).text == "Voornaam: Femke"


def test_it_previews_for_a_typed_relation_number_and_says_when_there_is_none(login, federation):
    relation = make_relation(federation.department11, first_name="Femke")
    hidden = make_relation(federation.department21, first_name="Geheim")
    template = make_mail_template(federation.national)
    client = login(federation.province_la)
    url = reverse("mail_template_preview", kwargs={"pk": template.pk})
    assert client.get(url, {"number": relation.number}).context["mail"].subject == "Welkom Femke"
    for typed in (hidden.number, "abc"):
        response = client.get(url, {"number": typed})
        assert response.status_code == 200
        assert response.context["error"] and response.context["mail"].subject == "Welkom Jan"


def test_it_refuses_a_second_template_with_the_same_name_at_the_field(login, federation):
    make_mail_template(federation.province1, name="Welkom")
    response = login(federation.province_sb).post(reverse("mail_template_create"), {
        "name": "Welkom", "email_subject": "Hoi", "email_text": "Tekst", "pdf_filename": "brief"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert MailTemplate.objects.filter(name="Welkom").count() == 1
