import pytest

from relations.models import CommunicationType, CustomField

pytestmark = pytest.mark.django_db


def test_it_adds_a_custom_field_to_the_current_environment(federation, login):
    client = login(federation.province_sb)
    response = client.post(
        "/settings/custom-fields/new/",
        {"label": "Diploma", "code": "diploma", "field_type": "choice", "choices": "A\nB", "order": 1},
    )
    assert response.status_code == 302
    field = CustomField.objects.get()
    assert field.tenant == federation.province1
    assert field.choice_list == ["A", "B"]


def test_it_refuses_a_choice_field_without_choices(federation, login):
    client = login(federation.province_sb)
    response = client.post(
        "/settings/custom-fields/new/", {"label": "Diploma", "code": "diploma", "field_type": "choice", "order": 1}
    )
    assert response.status_code == 200
    assert "choices" in response.context["form"].errors
    assert not CustomField.objects.exists()


def test_it_refuses_a_duplicate_code_in_the_same_environment(federation, login):
    CustomField.objects.create(tenant=federation.province1, code="diploma", label="Diploma", field_type="text")
    client = login(federation.province_sb)
    response = client.post(
        "/settings/custom-fields/new/", {"label": "Ander", "code": "diploma", "field_type": "text", "order": 1}
    )
    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert CustomField.objects.count() == 1


def test_it_shows_inherited_fields_but_edits_only_its_own(federation, login):
    national_field = CustomField.objects.create(
        tenant=federation.national, code="werk", label="Werksituatie", field_type="text"
    )
    client = login(federation.province_sb)
    response = client.get("/settings/custom-fields/")
    assert national_field in response.context["inherited"]
    assert client.get(f"/settings/custom-fields/{national_field.pk}/").status_code == 404


def test_it_keeps_other_provinces_fields_out_of_reach(federation, login):
    other = CustomField.objects.create(tenant=federation.province2, code="x", label="X", field_type="text")
    client = login(federation.province_sb)
    assert client.get(f"/settings/custom-fields/{other.pk}/").status_code == 404
    assert client.post(f"/settings/custom-fields/{other.pk}/delete/").status_code == 404
    assert CustomField.objects.filter(pk=other.pk).exists()


def test_it_refuses_member_administrators(federation, login):
    client = login(federation.province_la)
    assert client.get("/settings/custom-fields/").status_code == 403
    assert client.get("/settings/communication-types/").status_code == 403


def test_it_adds_and_renames_a_communication_type(federation, login):
    client = login(federation.province_sb)
    assert client.post("/settings/communication-types/", {"code": "tel", "name": "Telefoon"}).status_code == 302
    kind = CommunicationType.objects.get()
    assert kind.tenant == federation.province1
    response = client.post(f"/settings/communication-types/{kind.pk}/", {"code": "tel", "name": "Telefoongesprek"})
    assert response.status_code == 302
    kind.refresh_from_db()
    assert kind.name == "Telefoongesprek"


def test_it_lets_only_the_federation_edit_the_reasons_for_ending(federation, login):
    from memberships.models import CancellationReason

    assert login(federation.province_sb).get("/settings/cancellation-reasons/").status_code == 403
    client = login(federation.national_sb)
    assert client.post("/settings/cancellation-reasons/", {"name": "Studie", "order": 9, "active": "on"}).status_code == 302
    reason = CancellationReason.objects.get(name="Studie")
    assert client.post(f"/settings/cancellation-reasons/{reason.pk}/", {"name": "Studie", "order": 9}).status_code == 302
    reason.refresh_from_db()
    assert reason.active is False


def test_it_refuses_a_duplicate_reason_at_the_field(federation, login):
    client = login(federation.national_sb)
    response = client.post("/settings/cancellation-reasons/", {"name": "Verhuisd", "order": 1, "active": "on"})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
