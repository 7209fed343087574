"""Tenant details and editing (SPEC T8): validation of IBAN, postcode and logo, and who may edit."""

from __future__ import annotations

import io
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from PIL import Image

from tenants.forms import TenantForm
from tenants.models import AuditEvent, Tenant

pytestmark = pytest.mark.django_db

EDITABLE = [name for name in TenantForm.Meta.fields if name != "logo"]


def png_bytes(size: int = 2, noisy: bool = False) -> bytes:
    image = Image.new("RGB", (size, size), "navy")
    if noisy:
        # Random pixels do not compress, so the file grows with the image.
        rnd = random.Random(4)
        image.putdata([(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)) for _ in range(size * size)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def stored(tenant: Tenant) -> dict:
    fresh = Tenant.objects.get(pk=tenant.pk)
    values = model_to_dict(fresh, fields=EDITABLE)
    values["logo"] = fresh.logo.name
    return values


def form_data(tenant: Tenant, **overrides) -> dict:
    data = {key: ("" if value is None else value) for key, value in model_to_dict(tenant, fields=EDITABLE).items()}
    data.update(overrides)
    return data


def edit_url(tenant: Tenant) -> str:
    return f"/environments/{tenant.pk}/edit/"


# --- details -----------------------------------------------------------------------------------


def test_it_shows_the_details_of_the_current_environment(federation, login):
    response = login(federation.province_sb).get(f"/environments/{federation.province1.pk}/")

    assert response.status_code == 200
    assert response.context["tenant"] == federation.province1
    assert response.context["can_change"] is True


def test_it_shows_details_read_only_to_a_member_administrator(federation, login):
    response = login(federation.province_la).get(f"/environments/{federation.province1.pk}/")

    assert response.status_code == 200
    assert response.context["can_change"] is False


def test_it_hides_the_details_of_another_province(federation, login):
    response = login(federation.province_sb).get(f"/environments/{federation.province2.pk}/")

    assert response.status_code == 404


def test_it_forbids_details_to_a_user_without_any_role(federation, login):
    response = login(federation.outsider).get(f"/environments/{federation.province1.pk}/")

    assert response.status_code == 403


# --- editing -----------------------------------------------------------------------------------


def test_it_saves_valid_details(federation, login):
    tenant = federation.province1
    data = form_data(
        tenant,
        name="Provincie Eén", short_name="P1", registration_number="12345678",
        email="info@p1.example", phone="030-1234567", website="https://p1.example",
        iban="nl91 abna 0417 1643 00", language="en",
        postal_street="Dorpsstraat", postal_house_number="1a", postal_postcode="1234ab",
        postal_city="Utrecht", postal_country="NL",
    )

    response = login(federation.province_sb).post(edit_url(tenant), data)

    assert response.status_code == 302
    assert response.url == f"/environments/{tenant.pk}/"
    tenant.refresh_from_db()
    assert tenant.name == "Provincie Eén"
    assert tenant.short_name == "P1"
    assert tenant.iban == "NL91 ABNA 0417 1643 00"
    assert tenant.postal_postcode == "1234 AB"
    assert tenant.language == "en"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TENANT_CHANGED, tenant=tenant).exists()


def test_it_lets_a_province_administrator_edit_a_department_below(federation, login):
    tenant = federation.department11

    response = login(federation.province_sb).post(edit_url(tenant), form_data(tenant, phone="0612345678"))

    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.phone == "0612345678"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"iban": "NL91ABNA0417164301"}, "iban"),
        ({"iban": "geen rekening"}, "iban"),
        ({"postal_postcode": "0123 AB", "postal_country": "NL"}, "postal_postcode"),
        ({"postal_postcode": "12345", "postal_country": "NL"}, "postal_postcode"),
        ({"billing_postcode": "ABCD 12", "billing_country": "NL"}, "billing_postcode"),
        ({"name": ""}, "name"),
    ],
    ids=["iban-checksum", "iban-garbage", "postcode-leading-zero", "postcode-digits", "billing-postcode", "no-name"],
)
def test_it_refuses_invalid_details_at_the_field_and_saves_nothing(federation, login, overrides, field):
    tenant = federation.province1
    before = stored(tenant)
    data = form_data(tenant, short_name="Gewijzigd", **overrides)

    response = login(federation.province_sb).post(edit_url(tenant), data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert stored(tenant) == before


def test_it_accepts_a_png_logo_and_serves_it(federation, login):
    tenant = federation.province1
    content = png_bytes()
    client = login(federation.province_sb)

    response = client.post(
        edit_url(tenant),
        form_data(tenant, logo=SimpleUploadedFile("logo.png", content, content_type="image/png")),
    )

    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.logo
    served = client.get(f"/environments/{tenant.pk}/logo/")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == content


@pytest.mark.parametrize("upload_name", ["logo.pdf", "logo.jpg", "logo.gif"])
def test_it_serves_a_logo_as_what_it_is_not_as_what_it_is_called(upload_name, federation, login):
    tenant = federation.province1
    client = login(federation.province_sb)
    logo = SimpleUploadedFile(upload_name, png_bytes(), content_type="application/pdf")
    assert client.post(edit_url(tenant), form_data(tenant, logo=logo)).status_code == 302
    tenant.refresh_from_db()
    assert tenant.logo.name.endswith(".png")
    served = client.get(f"/environments/{tenant.pk}/logo/")
    assert served["Content-Type"] == "image/png"


def test_it_refuses_a_text_file_named_like_a_png(federation, login):
    tenant = federation.province1
    before = stored(tenant)
    fake = SimpleUploadedFile("logo.png", b"dit is geen plaatje\n" * 10, content_type="image/png")

    response = login(federation.province_sb).post(
        edit_url(tenant), form_data(tenant, short_name="Gewijzigd", logo=fake)
    )

    assert response.status_code == 200
    assert "logo" in response.context["form"].errors
    assert stored(tenant) == before


def test_it_refuses_a_logo_bigger_than_the_limit(federation, login, settings):
    settings.LOGO_MAX_BYTES = 1000
    content = png_bytes(size=40, noisy=True)
    assert len(content) > settings.LOGO_MAX_BYTES
    tenant = federation.province1
    before = stored(tenant)

    response = login(federation.province_sb).post(
        edit_url(tenant),
        form_data(tenant, short_name="Gewijzigd", logo=SimpleUploadedFile("logo.png", content, content_type="image/png")),
    )

    assert response.status_code == 200
    assert "logo" in response.context["form"].errors
    assert stored(tenant) == before


def test_it_answers_404_for_a_logo_that_was_never_uploaded(federation, login):
    response = login(federation.province_sb).get(f"/environments/{federation.province1.pk}/logo/")

    assert response.status_code == 404


def test_it_hides_the_logo_of_another_province(federation, login):
    tenant = federation.province2
    login(federation.province2_sb).post(
        edit_url(tenant),
        form_data(tenant, logo=SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")),
    )
    tenant.refresh_from_db()
    assert tenant.logo

    response = login(federation.province_sb).get(f"/environments/{tenant.pk}/logo/")

    assert response.status_code == 404


def test_it_forbids_editing_to_a_member_administrator(federation, login):
    tenant = federation.province1
    before = stored(tenant)
    client = login(federation.province_la)

    assert client.get(edit_url(tenant)).status_code == 403
    assert client.post(edit_url(tenant), form_data(tenant, name="Overgenomen")).status_code == 403
    assert stored(tenant) == before


def test_it_hides_editing_of_another_province(federation, login):
    tenant = federation.province2
    before = stored(tenant)

    response = login(federation.province_sb).post(edit_url(tenant), form_data(tenant, name="Overgenomen"))

    assert response.status_code == 404
    assert stored(tenant) == before


def test_it_forbids_editing_the_federation_to_a_province_administrator(federation, login):
    tenant = federation.national
    before = stored(tenant)

    response = login(federation.province_sb).post(edit_url(tenant), form_data(tenant, name="Overgenomen"))

    assert response.status_code == 404
    assert stored(tenant) == before
