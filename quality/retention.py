"""Retention (GDPR, issue 12 point 7): the federation chooses how many years after their last
function ended former members are kept; the nightly job "retention" anonymises those whose time
is up, through the same erasure as a request (relations/privacy.py). Off until a number is set;
the screen lists who the next run will anonymise before it runs."""

from __future__ import annotations

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from memberships.selectors import former_members_ended_before
from relations import privacy
from relations.models import Relation
from tenants.models import User

from .models import RetentionSetting

logger = logging.getLogger("ledenbeheer.jobs")

MAX_YEARS = 100


def retention_setting() -> RetentionSetting:
    return RetentionSetting.objects.order_by("pk").first() or RetentionSetting()


@transaction.atomic
def retention_setting_save(*, actor: User, years: int | None) -> RetentionSetting:
    if years is not None and not 1 <= years <= MAX_YEARS:
        raise ValidationError({"years": [f"1–{MAX_YEARS}"]})
    setting = RetentionSetting.objects.select_for_update().order_by("pk").first() or RetentionSetting()
    setting.years, setting.changed_by, setting.changed_at = years, actor, timezone.now()
    setting.save()
    return setting


def retention_cutoff(day: datetime.date, years: int) -> datetime.date:
    """`years` before `day` (29 February goes to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def retention_candidates(day: datetime.date):
    """The relations the job anonymises on `day`: none while the period is not set."""
    years = retention_setting().years
    if not years:
        return Relation.objects.none()
    return (
        Relation.objects.filter(anonymised_at__isnull=True)
        .filter(former_members_ended_before(retention_cutoff(day, years)))
        .order_by("last_name", "first_name", "number")
    )


def retention_run(day: datetime.date) -> dict:
    """The nightly job: anonymise every candidate, each in its own transaction; one that cannot be
    anonymised (an active login) is counted and left for a person to look at."""
    done = skipped = 0
    for relation in retention_candidates(day).iterator():
        try:
            privacy.relation_anonymise(actor=None, tenant=None, relation=relation)
        except ValidationError as refusal:
            skipped += 1
            logger.info("retention: relation %s not anonymised: %s", relation.number, "; ".join(refusal.messages))
        else:
            done += 1
    return {"anonymised": done, "skipped": skipped}
