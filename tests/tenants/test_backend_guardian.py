import pytest
from guardian.shortcuts import assign_perm

pytestmark = pytest.mark.django_db


def test_it_answers_no_for_a_permission_of_another_app_than_the_object(federation):
    # Permissions are asked about tenants ("may add relations here?"); guardian must not raise.
    assert federation.province_la.has_perm("relations.change_customfield", federation.province1) is False


def test_it_honours_an_explicit_per_object_grant(federation):
    assert not federation.outsider.has_perm("tenants.change_tenant", federation.department21)
    assign_perm("tenants.change_tenant", federation.outsider, federation.department21)
    outsider = type(federation.outsider).objects.get(pk=federation.outsider.pk)
    assert outsider.has_perm("tenants.change_tenant", federation.department21)
    assert not outsider.has_perm("tenants.change_tenant", federation.department22)
