"""The nightly and yearly jobs (SPEC N1, N3, N4, W5) and their run records.

Every job runs for a date. `job_run` claims the (job, date) run record first: a job that
finished for that date does nothing the second time, and a second delivery of the same task
while the first still runs steps aside. Jobs that mail an environment also write one
`ReportDelivery` row per environment and date, in the same transaction as the sending, so a job
that failed half-way and is run again mails only the environments it had not reached yet.

When jobs run is in `settings.CELERY_BEAT_SCHEDULE` (Europe/Amsterdam); `catch_up` reads the
same schedule to run a job whose last due time passed without a finished run (docs/jobs.md).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import defaultdict

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from memberships.models import Function, FunctionCategory
from tenants.jobs import Job, registered_jobs
from tenants.leases import heartbeat, lease_length, lease_release, lease_take
from tenants.models import RoleAssignment, Tenant, TenantKind

from . import services as quality
from .models import ErrorReportRecipient, JobRun, ReportDelivery
from .retention import retention_run

logger = logging.getLogger("ledenbeheer.jobs")

# How many problems one digest lists; the rest is one link to the error list away.
DIGEST_LIMIT = 200

RUN_JOB_TASK = "quality.tasks.run_job"


# --- mail ----------------------------------------------------------------------------------------


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def active_recipients(tenant: Tenant) -> list[str]:
    return list(
        ErrorReportRecipient.objects.filter(tenant=tenant, active=True).order_by("email").values_list("email", flat=True)
    )


def tenants_with_recipients(kind: str | None = None):
    tenants = Tenant.objects.filter(
        Exists(ErrorReportRecipient.objects.filter(tenant=OuterRef("pk"), active=True))
    )
    if kind is not None:
        tenants = tenants.filter(kind=kind)
    return tenants.order_by("path")


def report_send(*, job: str, tenant: Tenant, day: datetime.date, template: str, context: dict, items: int) -> bool:
    """Mail one report to the environment's active recipients, once per (job, environment,
    date). Returns False when it was already sent or there is nobody to send it to.

    The delivery row is the claim: written with status *sending* and the mail's Message-ID and
    committed before the mail server is called, marked *sent* right after. A row still *sending*
    was left by a worker that died around the send (the job's lease makes this worker the only
    one running the job now): that mail goes out again with the same Message-ID — the one mail
    that may arrive twice."""
    recipients = active_recipients(tenant)
    if not recipients:
        return False
    try:
        with transaction.atomic():
            delivery, _created = ReportDelivery.objects.get_or_create(
                job=job, tenant=tenant, run_date=day,
                defaults={"recipients": ", ".join(recipients), "items": items,
                          "status": ReportDelivery.Status.SENDING, "message_id": make_msgid(domain=DNS_NAME)},
            )
    except IntegrityError:  # made by a delivery running at the same moment
        return False
    if delivery.status == ReportDelivery.Status.SENT:
        return False
    with translation.override(tenant.language or settings.LANGUAGE_CODE):
        context = {**context, "tenant": tenant, "day": day, "site_url": settings.SITE_URL}
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, delivery.recipients.split(", "),
        headers={"Message-ID": delivery.message_id},
    )
    message.attach_alternative(html, "text/html")
    # A send that fails leaves the row *sending*: the job fails and its retry sends it again.
    message.send()
    ReportDelivery.objects.filter(pk=delivery.pk).update(status=ReportDelivery.Status.SENT, sent_at=timezone.now())
    return True


# --- the jobs --------------------------------------------------------------------------------------


def quality_checks(day: datetime.date) -> dict:
    return quality.checks_run(day)


def _digest_rows(problems, limit: int) -> list[dict]:
    """At most `limit` problems, by rule and card. Ordered on the problem's own columns, so an
    index on (rule, relation) gives the first rows without sorting every open problem."""
    rows = []
    for problem in problems.select_related("relation").order_by("rule", "relation_id")[:limit]:
        rule = quality.RULES_BY_CODE.get(problem.rule)
        relation = problem.relation
        rows.append({
            "rule": str(rule.description) if rule else problem.rule,
            "name": relation.display_name,
            "number": relation.number,
            "first_seen": problem.first_seen,
            "url": absolute_url(reverse("relation_detail", kwargs={"pk": relation.pk})),
        })
    return rows


def _open_counts_by_home(codes: list[str]) -> dict[int, list[tuple[datetime.date, int]]]:
    """Open problems per home environment and first-seen day: one grouped query for the whole
    federation, which every environment's count is then summed from."""
    counts: dict[int, list[tuple[datetime.date, int]]] = defaultdict(list)
    rows = (
        quality.open_problems(codes)
        .values_list("relation__tenant_id", "first_seen")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for tenant_id, first_seen, n in rows:
        counts[tenant_id].append((first_seen, n))
    return counts


def error_digest(day: datetime.date) -> dict:
    """Each environment with active recipients and open problems gets one mail listing the new
    and the still-open problems, with links to the cards (SPEC N3). No open problems, no mail."""
    codes = [rule.code for rule in quality.active_rules()]
    by_home = _open_counts_by_home(codes)
    paths = dict(Tenant.objects.values_list("pk", "path"))
    sent = skipped = nothing_open = 0
    for tenant in tenants_with_recipients():
        if ReportDelivery.objects.filter(
            job="error_digest", tenant=tenant, run_date=day, status=ReportDelivery.Status.SENT
        ).exists():
            skipped += 1
            continue
        subtree = [pk for pk, path in paths.items() if path.startswith(tenant.path)]
        guests = [] if tenant.is_root() else quality.environment_guests(tenant, day, subtree)
        counted = [c for pk in subtree for c in by_home.get(pk, [])]
        if guests:
            counted += list(
                quality.open_problems(codes).filter(relation_id__in=guests)
                .values_list("first_seen").annotate(n=Count("pk")).order_by()
            )
        total = sum(n for _first_seen, n in counted)
        if total == 0:
            nothing_open += 1
            continue
        previous = ReportDelivery.objects.filter(
            job="error_digest", tenant=tenant, run_date__lt=day
        ).aggregate(last=Max("run_date"))["last"]
        new_count = sum(n for first_seen, n in counted if previous is None or first_seen > previous)
        problems = quality.in_environment(quality.open_problems(codes), tenant, day, guests=guests)
        new = problems.filter(first_seen__gt=previous) if previous else problems
        still = problems.filter(first_seen__lte=previous) if previous else problems.none()
        new_rows = _digest_rows(new, DIGEST_LIMIT) if new_count else []
        still_rows = _digest_rows(still, max(0, DIGEST_LIMIT - len(new_rows))) if total > new_count else []
        context = {
            "total": total, "new_count": new_count, "still_count": total - new_count,
            "new_rows": new_rows, "still_rows": still_rows,
            "not_listed": total - len(new_rows) - len(still_rows),
            "list_url": absolute_url(reverse("quality_problem_list")),
        }
        if report_send(job="error_digest", tenant=tenant, day=day, template="quality/email/error_digest",
                       context=context, items=total):
            sent += 1
    return {"sent": sent, "already_sent": skipped, "nothing_open": nothing_open}


def administrators_list(day: datetime.date) -> dict:
    """In January each province's recipients get the list of everyone holding a role in the
    province or its departments, to check for the GDPR (SEED 000 "Ledenadministrateurs")."""
    sent = 0
    for province in tenants_with_recipients(TenantKind.PROVINCE):
        assignments = list(
            RoleAssignment.objects.active_on(day)
            .filter(province.subtree_filter("tenant"))
            .select_related("user", "tenant", "role")
            .order_by("tenant__path", "user__last_name", "user__username")
        )
        rows = [
            {"name": a.user.get_full_name() or a.user.username, "email": a.user.email, "role": a.role.label,
             "tenant": a.tenant.name, "since": a.start_date, "until": a.end_date}
            for a in assignments
        ]
        if report_send(job="administrators_list", tenant=province, day=day,
                       template="quality/email/administrators", context={"rows": rows}, items=len(rows)):
            sent += 1
    return {"sent": sent}


def aspirants_list(day: datetime.date) -> dict:
    """In December each province's recipients get the aspirant members to convert to paid
    members before 1 January (SEED 000 "Aspirantleden")."""

    sent = 0
    for province in tenants_with_recipients(TenantKind.PROVINCE):
        functions = list(
            Function.objects.active_on(day)
            .filter(province.subtree_filter("tenant"), function_type__category=FunctionCategory.ASPIRANT)
            .select_related("relation", "tenant")
            .order_by("tenant__path", "relation__last_name", "relation__number")
        )
        if not functions:
            continue
        rows = [
            {"name": f.relation.display_name, "number": f.relation.number, "tenant": f.tenant.name,
             "since": f.start_date,
             "url": absolute_url(reverse("relation_detail", kwargs={"pk": f.relation_id}))}
            for f in functions
        ]
        if report_send(job="aspirants_list", tenant=province, day=day, template="quality/email/aspirants",
                       context={"rows": rows, "conversion_date": datetime.date(day.year + 1, 1, 1)},
                       items=len(rows)):
            sent += 1
    return {"sent": sent}


DAY = datetime.timedelta(hours=23)
MONTH = datetime.timedelta(days=27)

JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("quality_checks", quality_checks, DAY),
        Job("error_digest", error_digest, DAY),
        Job("administrators_list", administrators_list, MONTH),
        Job("aspirants_list", aspirants_list, MONTH),
        Job("retention", retention_run, DAY),
    )
}


def all_jobs() -> dict[str, Job]:
    """quality's own jobs and the ones other apps registered (`tenants.jobs`)."""
    return {**registered_jobs(), **JOBS}


# --- running ----------------------------------------------------------------------------------------


class RunState:
    """What is known about a job's run for a date, for `run_job` and the reaper."""

    NONE = "none"  # never started
    LIVE = "live"  # running, its worker renews the lease
    STALE = "stale"  # marked running, but its lease ran out: its worker died
    FINISHED = "finished"
    FAILED = "failed"


def run_state(name: str, day: datetime.date) -> tuple[JobRun | None, str]:
    run = JobRun.objects.filter(name=name, run_date=day).first()
    if run is None:
        return None, RunState.NONE
    if run.status == JobRun.Status.RUNNING:
        live = run.lease_token and run.lease_until and run.lease_until > timezone.now()
        return run, RunState.LIVE if live else RunState.STALE
    return run, RunState.FINISHED if run.status == JobRun.Status.FINISHED else RunState.FAILED


def _claim(name: str, day: datetime.date) -> tuple[JobRun, str] | None:
    """The run record to work on and this worker's lease on it, or None when the job finished
    for this date or another worker is running it now (its lease is live). A run left *running*
    by a worker that died (its lease ran out) or that failed is taken over."""
    token = uuid.uuid4().hex
    now = timezone.now()
    try:
        with transaction.atomic():
            run, created = JobRun.objects.get_or_create(
                name=name, run_date=day, defaults={"lease_token": token, "lease_until": now + lease_length()}
            )
    except IntegrityError:
        # Another delivery created the record between our read and our insert.
        return None
    if created:
        return run, token
    token = lease_take(
        JobRun, run.pk, where=~Q(status=JobRun.Status.FINISHED),
        status=JobRun.Status.RUNNING, started_at=now, finished_at=None, attempts=F("attempts") + 1,
    )
    if token is None:
        return None
    run.refresh_from_db()
    return run, token


def job_run(name: str, day: datetime.date) -> tuple[JobRun | None, bool]:
    """Run job `name` for `day` unless it already ran or runs now. Returns the run record and
    whether this call did the work."""
    jobs = all_jobs()
    if name not in jobs:
        raise KeyError(name)
    claimed = _claim(name, day)
    if claimed is None:
        return JobRun.objects.filter(name=name, run_date=day).first(), False
    run, token = claimed
    logger.info("Job %s for %s started (attempt %d)", name, day, run.attempts)
    try:
        with heartbeat(JobRun, run.pk, token):
            result = jobs[name].run(day)
    except Exception as error:
        lease_release(
            JobRun, run.pk, token, status=JobRun.Status.FAILED, finished_at=timezone.now(),
            errors=[{"error": f"{type(error).__name__}: {error}"}],
        )
        logger.exception("Job %s for %s failed", name, day)
        raise
    errors = result.pop("errors", [])
    if not lease_release(
        JobRun, run.pk, token, status=JobRun.Status.FINISHED, finished_at=timezone.now(), counts=result,
        errors=errors,
    ):
        logger.warning("Job %s for %s lost its lease to another worker; that one records the run", name, day)
    run.refresh_from_db()
    logger.info("Job %s for %s finished: %s", name, day, result)
    return run, True


# --- schedule and catching up -----------------------------------------------------------------------


def scheduled_jobs() -> dict[str, object]:
    """Job name → its celery crontab, from settings.CELERY_BEAT_SCHEDULE."""
    found = {}
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry.get("task") == RUN_JOB_TASK and entry.get("args"):
            found[entry["args"][0]] = entry["schedule"]
    return found


def latest_due(schedule, now: datetime.datetime) -> datetime.datetime | None:
    """The last moment at or before `now` (aware, local time) that a celery crontab fires,
    looking back at most a year."""
    now = timezone.localtime(now)
    for back in range(0, 367):
        day = now.date() - datetime.timedelta(days=back)
        # Celery numbers weekdays from Sunday = 0.
        if (day.month not in schedule.month_of_year or day.day not in schedule.day_of_month
                or (day.isoweekday() % 7) not in schedule.day_of_week):
            continue
        times = sorted(
            (datetime.time(h, m) for h in schedule.hour for m in schedule.minute),
            reverse=True,
        )
        for moment in times:
            due = timezone.make_aware(datetime.datetime.combine(day, moment), now.tzinfo)
            if due <= now:
                return due
    return None


def catch_up(now: datetime.datetime | None = None) -> list[str]:
    """Run every scheduled job whose last due time passed without a finished run and lies
    within its catch-up window, oldest due time first (so the checks run before the digest).
    Returns what it ran, as "name date"."""
    now = now or timezone.now()
    due_jobs = []
    jobs = all_jobs()
    for name, schedule in scheduled_jobs().items():
        due = latest_due(schedule, now)
        if due is None or name not in jobs or now - due > jobs[name].catch_up_within:
            continue
        if JobRun.objects.filter(name=name, run_date=due.date(), status=JobRun.Status.FINISHED).exists():
            continue
        due_jobs.append((due, name))
    ran = []
    for due, name in sorted(due_jobs):
        try:
            _run, did = job_run(name, due.date())
        except Exception:  # recorded in the job's run record; the next job still runs
            logger.exception("Catching up %s for %s failed", name, due.date())
            continue
        if did:
            ran.append(f"{name} {due.date().isoformat()}")
    return ran
