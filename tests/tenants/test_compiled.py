"""tenants/compiled.py: the SQL of a query kept per key on PostgreSQL; the rows read every time."""

import pytest
from django.db import NotSupportedError, connection

from relations.models import ColumnPreference, CustomField
from tenants.compiled import ArrayParam, CompiledQueries
from tenants.lookups import Ids
from tenants.models import Tenant

pytestmark = pytest.mark.django_db

KEPT = connection.vendor == "postgresql"  # elsewhere every call compiles


def _names(builds: list, path: str):
    def build():
        builds.append(path)
        return Tenant.objects.filter(path__startswith=path).order_by("path").values_list("name", flat=False)

    return build


def test_it_compiles_once_per_key_and_reads_the_rows_every_time(federation):
    queries, builds = CompiledQueries(), []
    province = federation.province1
    first = queries.rows(province.path, _names(builds, province.path), "default")
    Tenant.objects.filter(pk=federation.department11.pk).update(name="Afdeling Hernoemd")
    second = queries.rows(province.path, _names(builds, province.path), "default")
    assert ("Afdeling Hernoemd",) in second and ("Afdeling Hernoemd",) not in first
    assert len(builds) == (1 if KEPT else 2)
    other = queries.rows(federation.province2.path, _names(builds, federation.province2.path), "default")
    assert other != second and len(builds) == (2 if KEPT else 3)  # another key: compiled for it


def test_it_starts_afresh_past_its_limit(federation):
    queries, builds = CompiledQueries(limit=2), []
    tenants = [federation.province1, federation.province2, federation.department11]
    for tenant in [*tenants, tenants[0]]:
        assert queries.rows(tenant.path, _names(builds, tenant.path), "default")
    assert len(builds) == 4  # the first key was forgotten when the third came


def test_an_array_is_put_in_on_every_call(federation):
    queries, builds = CompiledQueries(), []

    def build(ids):
        builds.append(ids)
        return Tenant.objects.filter(pk__in_list=ids).order_by("path").values_list("pk", flat=False)

    some = [federation.province1.pk, federation.department11.pk]
    other = [federation.department21.pk]
    assert queries.rows("tenants", build, "default", arrays={"ids": some}) == [(pk,) for pk in sorted(some)]
    assert queries.rows("tenants", build, "default", arrays={"ids": other}) == [(pk,) for pk in other]
    assert queries.rows("tenants", build, "default", arrays={"ids": []}) == []
    if KEPT:
        assert len(builds) == 1 and isinstance(builds[0], ArrayParam)
    else:
        assert builds == [some, other, []]


def test_objects_are_loaded_as_the_orm_loads_them(federation):
    CustomField.objects.create(tenant=federation.province1, code="maat", label="Maat", field_type="choice",
                               choices="S\nM\nL")
    CustomField.objects.create(tenant=federation.national, code="hobby", label="Hobby", field_type="text")

    def build():
        return CustomField.objects.filter(tenant__path__in=federation.province1.ancestor_paths()).order_by("code")

    loaded = CompiledQueries().objects("fields", CustomField, build, "default")
    expected = list(build())
    assert [f.pk for f in loaded] == [f.pk for f in expected]
    for found, orm in zip(loaded, expected, strict=True):
        assert {f.attname: getattr(found, f.attname) for f in CustomField._meta.concrete_fields} == {
            f.attname: getattr(orm, f.attname) for f in CustomField._meta.concrete_fields
        }
        assert not found._state.adding and found._state.db == "default"
    assert loaded[1].choices == "S\nM\nL"


def test_a_value_is_read_as_the_orm_reads_it(federation):
    """A JSON field comes back as its value, not as the text PostgreSQL sends."""
    user = federation.users["national_sb"]
    ColumnPreference.objects.create(user=user, columns=["name", "city"])

    def build():
        return ColumnPreference.objects.filter(user_id=user.pk).values_list("columns", flat=False)

    assert CompiledQueries().rows(user.pk, build, "default") == [(["name", "city"],)] == list(build())


def test_ids_find_what_a_list_finds(federation):
    ids = [federation.province1.pk, federation.department12.pk]
    assert set(Tenant.objects.filter(pk__in_list=Ids(ids))) == set(Tenant.objects.filter(pk__in=ids))
    assert not Tenant.objects.filter(pk__in_list=Ids([])).exists()


def test_an_array_placeholder_is_only_kept_for_postgresql(federation):
    query = Tenant.objects.filter(pk__in_list=ArrayParam("ids"))
    if KEPT:
        sql, params = query.query.sql_with_params()
        assert "= ANY(%s::" in sql and isinstance(params[-1], ArrayParam)
    else:
        with pytest.raises(NotSupportedError):
            list(query)


def test_objects_may_load_only_some_fields(federation):
    def build():
        return Tenant.objects.filter(pk=federation.province1.pk)

    (tenant,) = CompiledQueries().objects("one", Tenant, build, "default", fields=("path", "name", "id"))
    assert (tenant.pk, tenant.name, tenant.path) == (federation.province1.pk, "Provincie 1", federation.province1.path)
    assert tenant.get_deferred_fields() == {f.attname for f in Tenant._meta.concrete_fields} - {"id", "name", "path"}
    assert CompiledQueries().objects("none", Tenant, Tenant.objects.none, "default") == []
