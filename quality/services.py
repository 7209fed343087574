"""Data-quality rules (SPEC N1/N2): a registry of rules, each a query that finds every offending
relation at once, and the open-problem lifecycle they drive.

A rule only looks at *current* relations — those holding a function today — because a card
whose every function has ended is history: nobody completes it, so it must not fill the error
list for ever. The nightly check (`checks_run`) runs every active rule as a handful of set-based
statements per rule (no Python loop over relations), and saving a card (`relation_recheck`)
runs the same rules for that one card.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ledenbeheer.addresses import POSTCODE_PATTERNS
from memberships.models import Function, FunctionCategory
from relations.models import CustomField, Relation, RelationKind
from tenants.models import Tenant, TenantKind

from .models import DataProblem, QualityRuleSetting

logger = logging.getLogger("ledenbeheer.quality")

INSERT_BATCH = 5_000


class Severity:
    ERROR = "error"
    WARNING = "warning"
    LABELS = {ERROR: _("Error"), WARNING: _("Warning")}


@dataclass(frozen=True)
class Rule:
    code: str
    description: str | Promise
    severity: str
    offenders: Callable[[datetime.date], QuerySet[Relation]]
    default_active: bool = True
    # A mandatory-field rule: national chooses which fields the federation requires.
    mandatory_field: bool = False

    @property
    def severity_label(self) -> str:
        return str(Severity.LABELS[self.severity])


# --- the queries -------------------------------------------------------------------------------


def _functions():

    return Function.objects


def current_relations(day: datetime.date) -> QuerySet[Relation]:
    """Relations holding at least one function on `day`."""
    return Relation.objects.filter(Exists(_functions().active_on(day).filter(relation=OuterRef("pk"))))


def _missing_email(day):
    return current_relations(day).filter(email="")


def _missing_birth_date(day):
    return current_relations(day).filter(kind=RelationKind.PERSON, birth_date__isnull=True)


def _missing_address(day):
    return current_relations(day).filter(
        Q(postcode="") | Q(house_number__isnull=True) | Q(street="") | Q(city="")
    )


def _missing_phone(day):
    return current_relations(day).filter(phone="", mobile="")


def _missing_gender(day):
    return current_relations(day).filter(kind=RelationKind.PERSON, gender="")


def _invalid_postcode(day):
    wrong = Q()
    for country, (pattern, _message) in POSTCODE_PATTERNS.items():
        wrong |= Q(country=country) & ~Q(postcode__regex=pattern.pattern)
    return current_relations(day).exclude(postcode="").filter(wrong)


# Functions only a member holds; a sponsor, donor or supplier need not be a member.
MEMBER_CATEGORIES = (
    FunctionCategory.MEMBERSHIP, FunctionCategory.ASPIRANT, FunctionCategory.BOARD,
    FunctionCategory.ADMINISTRATION,
)


def _member_without_department(day):
    current = _functions().active_on(day).filter(relation=OuterRef("pk"))
    return Relation.objects.filter(
        Exists(current.filter(function_type__category__in=MEMBER_CATEGORIES))
    ).exclude(
        Exists(current.filter(function_type__counts_as_membership=True, tenant__kind=TenantKind.DEPARTMENT))
    )


def _function_wrong_kind(day):
    return Relation.objects.filter(
        Exists(
            _functions().active_on(day)
            .filter(relation=OuterRef("pk"))
            .exclude(tenant__kind=F("function_type__tenant_kind"))
        )
    )


def conversion_date(day: datetime.date) -> datetime.date:
    """Aspirant members are converted to paid members before 1 January (glossary)."""
    return datetime.date(day.year, 1, 1)


def _aspirant_overdue(day):
    return Relation.objects.filter(
        Exists(
            _functions().active_on(day).filter(
                relation=OuterRef("pk"), function_type__category=FunctionCategory.ASPIRANT,
                start_date__lt=conversion_date(day),
            )
        )
    )


def _required_custom_field_empty(day):
    empty = Q()
    for field in CustomField.objects.filter(required=True).select_related("tenant"):
        empty |= field.tenant.subtree_filter("tenant") & (
            ~Q(extra__has_key=field.code) | Q(**{f"extra__{field.code}": ""}) | Q(**{f"extra__{field.code}": None})
        )
    if not empty:
        # No required custom fields: a query that finds nobody (and still closes open problems).
        return Relation.objects.filter(pk__lt=0)
    return current_relations(day).filter(empty)


RULES: tuple[Rule, ...] = (
    Rule("missing_email", _("E-mail address is missing"), Severity.ERROR, _missing_email, mandatory_field=True),
    Rule("missing_birth_date", _("Birth date is missing"), Severity.ERROR, _missing_birth_date, mandatory_field=True),
    Rule("missing_address", _("Address is incomplete (postcode, house number, street or city)"), Severity.ERROR,
         _missing_address, mandatory_field=True),
    Rule("missing_phone", _("Phone number is missing (neither phone nor mobile)"), Severity.WARNING,
         _missing_phone, default_active=False, mandatory_field=True),
    Rule("missing_gender", _("Gender is missing"), Severity.WARNING, _missing_gender, default_active=False,
         mandatory_field=True),
    Rule("invalid_postcode", _("Postcode is not valid for the country"), Severity.ERROR, _invalid_postcode),
    Rule("member_without_department", _("Member without a current department membership"), Severity.ERROR,
         _member_without_department),
    Rule("function_wrong_kind", _("Function held in an environment of the wrong kind"), Severity.ERROR,
         _function_wrong_kind),
    Rule("aspirant_overdue", _("Aspirant member past the conversion date (1 January)"), Severity.WARNING,
         _aspirant_overdue),
    Rule("required_custom_field_empty", _("A required custom field is empty"), Severity.ERROR,
         _required_custom_field_empty),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}


def rule_states() -> dict[str, bool]:
    """Every rule's code → whether the federation checks it."""
    chosen = dict(QualityRuleSetting.objects.values_list("code", "active"))
    return {rule.code: chosen.get(rule.code, rule.default_active) for rule in RULES}


def active_rules() -> list[Rule]:
    states = rule_states()
    return [rule for rule in RULES if states[rule.code]]


@transaction.atomic
def rule_settings_save(*, active_codes: Iterable[str]) -> list[str]:
    """Store which rules are active (the national choice). Returns the codes that changed.
    Problems of a rule switched off are closed at once, so the error list drops them today."""
    from django.utils import timezone

    wanted = set(active_codes)
    before = rule_states()
    changed = []
    for rule in RULES:
        active = rule.code in wanted
        QualityRuleSetting.objects.update_or_create(code=rule.code, defaults={"active": active})
        if active != before[rule.code]:
            changed.append(rule.code)
            if not active:
                DataProblem.objects.filter(rule=rule.code, closed_on__isnull=True).update(
                    closed_on=timezone.localdate(), closed_by=DataProblem.ClosedBy.RULE_OFF
                )
    return changed


# --- the lifecycle -----------------------------------------------------------------------------


def _open(rule_code: str) -> QuerySet[DataProblem]:
    return DataProblem.objects.filter(rule=rule_code, closed_on__isnull=True)


def _rule_run(rule: Rule, day: datetime.date) -> dict[str, int]:
    """One rule over all relations: refresh the still-open problems, close the fixed ones, open
    the new ones. Set-based statements; only the ids of new problems pass through Python, in
    batches."""
    offending = rule.offenders(day).filter(pk=OuterRef("relation_id"))
    still_open = _open(rule.code).filter(Exists(offending)).update(last_seen=day)
    closed = _open(rule.code).exclude(Exists(offending)).update(
        closed_on=day, closed_by=DataProblem.ClosedBy.CHECK
    )
    new_ids = (
        rule.offenders(day)
        .exclude(Exists(_open(rule.code).filter(relation_id=OuterRef("pk"))))
        .order_by()
        .values_list("pk", flat=True)
    )
    opened = 0
    batch: list[DataProblem] = []
    for relation_id in new_ids.iterator(chunk_size=INSERT_BATCH):
        batch.append(DataProblem(relation_id=relation_id, rule=rule.code, first_seen=day, last_seen=day))
        if len(batch) >= INSERT_BATCH:
            opened += _insert(batch)
            batch = []
    opened += _insert(batch)
    return {"opened": opened, "still_open": still_open, "closed": closed}


def _insert(batch: list[DataProblem]) -> int:
    if not batch:
        return 0
    # A card saved during the run may have opened the same problem a moment ago: that row wins.
    DataProblem.objects.bulk_create(batch, ignore_conflicts=True)
    return len(batch)


def checks_run(day: datetime.date) -> dict:
    """Run every active rule over all relations for `day`. A rule that fails is reported in the
    result (and leaves its problems as they were); the other rules still run."""
    counts: dict[str, dict[str, int]] = {}
    errors: list[dict[str, str]] = []
    states = rule_states()
    for rule in RULES:
        if not states[rule.code]:
            closed = _open(rule.code).update(closed_on=day, closed_by=DataProblem.ClosedBy.RULE_OFF)
            if closed:
                counts[rule.code] = {"opened": 0, "still_open": 0, "closed": closed}
            continue
        try:
            with transaction.atomic():
                counts[rule.code] = _rule_run(rule, day)
        except (DatabaseError, ValueError, TypeError, KeyError) as error:
            logger.exception("Data-quality rule %s failed", rule.code)
            errors.append({"rule": rule.code, "error": f"{type(error).__name__}: {error}"})
    totals = {
        key: sum(c[key] for c in counts.values()) for key in ("opened", "still_open", "closed")
    }
    if connection.vendor == "postgresql" and totals["opened"] + totals["closed"]:
        # Fresh statistics after a large change, so the morning's queries are planned on the
        # real number of open problems, not on yesterday's.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {DataProblem._meta.db_table}")
    return {"rules": counts, **totals, "errors": errors}


def relation_recheck(*, relation_id: int, day: datetime.date | None = None) -> dict[str, list[str]]:
    """Check one card against the active rules right after it was saved: fixed problems close
    at once, new ones open (SPEC N2). A failure is logged and never stops the save — the
    nightly check repeats the work."""
    found = relations_recheck(relation_ids=[relation_id], day=day)
    return found.get(relation_id, {"opened": [], "closed": []})


def _keys_in(ids: list[int]):
    """`pk__in` for many keys: on PostgreSQL one array parameter (unnest) rather than a
    parameter per key in each part of the query, which made planning cost more than running."""
    if connection.vendor != "postgresql":
        return ids
    return RawSQL("SELECT unnest(%s::bigint[])", [list(ids)])


# Cards per query: each rule's part looks up only these cards, so the plan stays small.
RECHECK_CHUNK = 2000


def relations_recheck(*, relation_ids: list[int], day: datetime.date | None = None) -> dict[int, dict[str, list[str]]]:
    """`relation_recheck` for many cards saved together (the bulk import): per chunk of cards one
    query for all active rules (a UNION ALL of each rule's offenders among the chunk's cards), one read of their open problems, one update and one insert. Returns per card what opened and what closed."""
    from django.utils import timezone

    day = day or timezone.localdate()
    rules = active_rules()
    outcome: dict[int, dict[str, list[str]]] = {}
    if not rules:
        return outcome
    codes = [rule.code for rule in rules]
    try:
        with transaction.atomic():
            for start in range(0, len(relation_ids), RECHECK_CHUNK):
                chunk = relation_ids[start : start + RECHECK_CHUNK]
                # Per rule its offenders among the chunk's cards (each rule's query driven by the
                # cards' keys, whatever the size of the tables), all rules in one UNION ALL.
                # The first part (code "") names the cards that still exist.
                keys = _keys_in(chunk)
                parts = [
                    query.filter(pk__in=keys).order_by()
                    .annotate(rule_code=Value(code, output_field=CharField())).values_list("pk", "rule_code")
                    for code, query in [("", Relation.objects.all()), *((rule.code, rule.offenders(day)) for rule in rules)]
                ]
                offending: dict[int, set[str]] = {}
                for pk, code in parts[0].union(*parts[1:], all=True):
                    found = offending.setdefault(pk, set())
                    if code:
                        found.add(code)
                chunk = [pk for pk in chunk if pk in offending]
                open_now: dict[int, set[str]] = {pk: set() for pk in chunk}
                rows = DataProblem.objects.filter(relation_id__in=keys, closed_on__isnull=True, rule__in=codes)
                for pk, code in rows.values_list("relation_id", "rule"):
                    open_now[pk].add(code)
                fixed = Q()
                new: list[DataProblem] = []
                for pk in chunk:
                    closed = sorted(open_now[pk] - offending[pk])
                    opened = sorted(offending[pk] - open_now[pk])
                    outcome[pk] = {"opened": opened, "closed": closed}
                    if closed:
                        fixed |= Q(relation_id=pk, rule__in=closed)
                    new += [DataProblem(relation_id=pk, rule=code, first_seen=day, last_seen=day) for code in opened]
                if fixed:
                    DataProblem.objects.filter(fixed, closed_on__isnull=True).update(
                        closed_on=day, closed_by=DataProblem.ClosedBy.SAVE
                    )
                if new:
                    DataProblem.objects.bulk_create(new, ignore_conflicts=True, batch_size=INSERT_BATCH)
            return outcome
    except DatabaseError:
        logger.exception("Rechecking relations %s… failed", relation_ids[:5])
        return {}


# --- reading problems ----------------------------------------------------------------------------


def open_problems(codes: Iterable[str] | None = None) -> QuerySet[DataProblem]:
    """Open problems of the active rules (or of `codes`)."""
    codes = list(codes) if codes is not None else [rule.code for rule in active_rules()]
    return DataProblem.objects.filter(closed_on__isnull=True, rule__in=codes)


def environment_guests(tenant: Tenant, day: datetime.date, tenant_ids: list[int]) -> list[int]:
    """Relations holding a current function in the environment (`tenant_ids`: its subtree) but
    homed elsewhere — few, so a plain list."""
    return list(
        _functions().active_on(day)
        .filter(tenant_id__in=tenant_ids)
        .exclude(relation__tenant_id__in=tenant_ids)
        .values_list("relation_id", flat=True)
        .distinct()
    )


def relation_problems(relation_id: int) -> list[dict]:
    """The open problems of one card (active rules), for the card itself: what to complete."""
    rules = {rule.code: rule for rule in active_rules()}
    return [
        {"rule": rules[code], "first_seen": first_seen}
        for code, first_seen in DataProblem.objects.filter(
            relation_id=relation_id, closed_on__isnull=True, rule__in=list(rules)
        ).order_by("rule").values_list("rule", "first_seen")
    ]


def in_environment(
    problems: QuerySet[DataProblem], tenant: Tenant, day: datetime.date, *, guests: list[int] | None = None
) -> QuerySet[DataProblem]:
    """Problems of relations an environment holds: homed in its subtree or holding a current
    function there — the rule of `Relation.objects.visible_to`, for jobs that act for nobody in
    particular (the morning digest).

    The relations with a current function here but homed elsewhere ("guests") are looked up
    first, as a short list: an OR with a correlated EXISTS per problem made a province's digest
    take seconds per query at a million relations (docs/benchmarks.md)."""
    if tenant.is_root():
        return problems
    tenant_ids = list(Tenant.objects.subtree(tenant).values_list("pk", flat=True))
    if guests is None:
        guests = environment_guests(tenant, day, tenant_ids)
    return problems.filter(Q(relation__tenant_id__in=tenant_ids) | Q(relation_id__in=guests))


def in_department(problems: QuerySet[DataProblem], department: Tenant, day: datetime.date) -> QuerySet[DataProblem]:
    """Problems of relations homed in `department` or holding a current function there."""
    current_there = _functions().active_on(day).filter(relation=OuterRef("relation_id"), tenant=department)
    return problems.filter(Q(relation__tenant=department) | Exists(current_there))
