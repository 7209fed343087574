import pytest

pytestmark = pytest.mark.django_db


def test_it_shows_the_current_environment_top_left(federation, login):
    response = login(federation.province_sb).get("/")
    assert response.status_code == 200
    assert b'data-testid="current-environment">Provincie 1<' in response.content
