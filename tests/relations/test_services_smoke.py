import datetime

import pytest

from memberships.models import Function
from tests.factories import make_relation

pytestmark = pytest.mark.django_db


def test_it_creates_a_relation_with_its_first_function(federation):
    relation = make_relation(federation.department11, actor=federation.province_sb, postcode="1234ab")
    assert relation.number > 100000
    assert relation.postcode == "1234 AB"
    function = Function.objects.get(relation=relation)
    assert function.tenant == federation.department11
    assert function.start_date == datetime.date.today() - datetime.timedelta(days=100)
