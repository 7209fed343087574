"""bench_checks runs on a small federation and leaves the federation's choices as they were."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from quality import services as quality
from quality.models import QualityRuleSetting
from relations.models import CustomField

from .quality_world import build_world

pytestmark = pytest.mark.django_db


def test_it_times_the_check_and_the_digest_and_restores_the_settings(federation, capsys):
    build_world(federation)
    QualityRuleSetting.objects.create(code="missing_email", active=False)
    before = (quality.rule_states(), dict(CustomField.objects.values_list("pk", "required")))
    call_command("bench_checks", "--all-rules", "--recheck-samples", "5")
    out = capsys.readouterr().out
    assert "Nightly check, cold (all new):" in out and "peak RSS" in out
    assert "Digest, all environments, next morning (still open):" in out
    assert "Targets:" in out
    assert (quality.rule_states(), dict(CustomField.objects.values_list("pk", "required"))) == before
