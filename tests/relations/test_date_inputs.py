"""Dates are shown and typed as dd-mm-jjjj everywhere (issue 16, point 13): form fields, the
search's filters and the wizards' questions; ISO dates in links still work."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.urls import reverse

from tenants.forms import DateInput

pytestmark = pytest.mark.django_db


class _Form(forms.Form):
    day = forms.DateField(widget=DateInput)


@pytest.mark.parametrize("typed", ["05-03-2026", "5-3-2026", "05/03/2026", "5.3.2026", "2026-03-05"])
def test_it_reads_a_typed_day_first(typed):
    form = _Form({"day": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == datetime.date(2026, 3, 5)


def test_it_shows_a_date_as_dd_mm_jjjj_in_a_text_input():
    html = str(_Form(initial={"day": datetime.date(2026, 3, 5)})["day"])
    assert 'type="text"' in html and 'value="05-03-2026"' in html and 'placeholder="dd-mm-jjjj"' in html


def test_it_refuses_a_day_that_does_not_exist():
    assert not _Form({"day": "31-02-2026"}).is_valid()


def test_it_shows_the_searchs_member_on_date_as_dd_mm_jjjj(federation, login):
    response = login(federation.province_sb).get(reverse("relation_list"), {"member_on": "2026-03-05", "panel": "1"})
    assert 'value="05-03-2026"' in response.content.decode()
