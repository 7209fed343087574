"""Query counts are part of a page's contract (STYLE 12): the hot pages of the tenants app, with
bounds set to what they take today, and the user list proven free of N+1 queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ..factories import UserFactory, give_role

pytestmark = pytest.mark.django_db

# Measured, not guessed: if a change needs more, look at the queries first, then raise the bound
# with a reason.
# Every page pays 5 for the session, the user, the current environment and the user's grants
# (assignments, then their permissions), and 1 for the switcher in the navigation.
# The start page is the dashboard (its widgets load on their own): + the user's hidden widgets.
HOME_QUERIES = {"national_sb": 8, "province_sb": 8}
USER_LIST_QUERIES = 10  # + count, page of users, their roles, lock-outs of the page
SWITCHER_QUERIES = 7  # + the environments to choose from
TENANT_DETAIL_QUERIES = 7  # + the tenant


def _warm(client, url: str):
    # The first request after logging in stores the current environment in the session; the
    # counts below are for every request after that one.
    assert client.get(url).status_code == 200


def _add_users_with_roles(federation, count: int, start: int = 0) -> None:
    places = [
        (federation.department11, "department_member_administrator"),
        (federation.department21, "department_member_administrator"),
        (federation.province1, "province_member_administrator"),
        (federation.province2, "province_system_administrator"),
    ]
    for n in range(start, start + count):
        tenant, role = places[n % len(places)]
        user = UserFactory(username=f"extra{n:03d}", tenant=tenant)
        give_role(user, tenant, role)
        if n % 3 == 0:
            # A second role elsewhere, so the list really has several roles per user to show.
            give_role(user, federation.national, "national_member_administrator")


@pytest.mark.parametrize("actor", sorted(HOME_QUERIES))
def test_it_shows_the_home_page_in_few_queries(
    federation, login, django_assert_max_num_queries, actor
):
    client = login(federation.users[actor])
    _warm(client, reverse("home"))

    with django_assert_max_num_queries(HOME_QUERIES[actor]):
        response = client.get(reverse("home"))
    assert response.status_code == 200


def test_it_lists_users_in_a_number_of_queries_that_does_not_grow_with_the_users(
    federation, login, django_assert_max_num_queries
):
    client = login(federation.national_sb)
    url = reverse("user_list")
    _warm(client, url)

    _add_users_with_roles(federation, 5)
    with django_assert_max_num_queries(USER_LIST_QUERIES) as with_few:
        few = client.get(url)
    assert few.status_code == 200

    _add_users_with_roles(federation, 25, start=5)
    with django_assert_max_num_queries(USER_LIST_QUERIES) as with_many:
        many = client.get(url)
    assert many.status_code == 200

    assert len(many.context["page"].object_list) == len(few.context["page"].object_list) + 25
    assert len(with_many.captured_queries) == len(with_few.captured_queries)


def test_it_shows_the_environment_switcher_in_few_queries(
    federation, login, django_assert_max_num_queries
):
    client = login(federation.national_sb)
    url = reverse("switch_environment")
    _warm(client, url)

    with django_assert_max_num_queries(SWITCHER_QUERIES):
        response = client.get(url)
    assert response.status_code == 200


def test_it_shows_tenant_details_in_few_queries(federation, login, django_assert_max_num_queries):
    client = login(federation.province_sb)
    url = reverse("tenant_detail", kwargs={"pk": federation.department11.pk})
    _warm(client, url)

    with django_assert_max_num_queries(TENANT_DETAIL_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
