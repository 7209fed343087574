"""Demo relations at scale: realistic Dutch members with their functions, loaded fast enough for
a million relations (`seed_demo --members N`, `bench_relations`).

`populate(n)` tops the federation up to `n` relations in total: running it twice with the same
`n` adds nothing the second time, and a larger `n` adds only the difference. Rows go straight to
the tables in batches (PostgreSQL: COPY; other databases: executemany), because bulk_create spends
about half a millisecond of Python per relation building its SQL — half an hour for a million.
The services' rules are kept by construction (one open function per type and tenant, end dates
after start dates, numbers from the counter). Each card and function gets its first ("+")
history row, holding its values, with one INSERT … SELECT per batch, so the first change made to
a loaded card shows old → new like any other.
"""

from __future__ import annotations

import datetime
import functools
import json
import random
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from memberships.models import CancellationReason, Function, FunctionType
from relations.models import (
    CustomField,
    CustomFieldType,
    Gender,
    Relation,
    RelationKind,
    RelationNumberCounter,
)
from relations.services import search_text_for
from tenants.models import Tenant, TenantKind

BATCH_SIZE = 5_000
PROGRESS_EVERY = 50_000

BIRTH_FROM = datetime.date(1990, 1, 1)
BIRTH_TO = datetime.date(2012, 12, 31)
EARLIEST_START = datetime.date(2004, 1, 1)

# Shares of the relations (SPEC R1/R3 demo mix).
ASPIRANT_SHARE = 0.10        # currently an aspirant member
ENDED_SHARE = 0.15           # membership ended, with a reason
BOARD_SHARE = 0.03           # a board function next to the membership (of running members: ~3 %)
SHARED_ADDRESS_SHARE = 0.05  # lives at the address of another relation (brothers and sisters)
EMAIL_SHARE = 0.85
ASPIRANT_FIRST_SHARE = 0.45  # members who were aspirant member first: the older row stays, ended
TRANSFERRED_SHARE = 0.05     # members who came from another department
GUEST_BOARD_SHARE = 0.15     # board members who sit on another department's board ("guests")

INFIXES = (
    "van der", "van den", "van de", "van 't", "in 't", "uit de", "op de", "van", "de", "den",
    "der", "ter", "ten", "te", "'t",
)
# Postcode letters the Dutch post uses (no F, I, O, Q, U, Y; SA, SD and SS are skipped).
POSTCODE_LETTERS = "ABCEGHJKLMNPRSTVWXZ"
AREA_CODES = (
    "010", "013", "015", "020", "023", "024", "026", "030", "033", "035", "036", "038", "040", "043",
    "045", "046", "050", "053", "055", "058", "070", "071", "072", "073", "074", "075", "076", "077",
    "078", "079", "0111", "0113", "0115", "0162", "0172", "0180", "0222", "0223", "0226", "0228",
    "0251", "0294", "0299", "0313", "0314", "0315", "0316", "0317", "0318", "0320", "0321", "0341",
    "0342", "0343", "0344", "0345", "0346", "0347", "0348", "0475", "0478", "0481", "0485", "0486",
    "0487", "0488", "0492", "0493", "0495", "0497", "0499", "0511", "0512", "0513", "0514", "0515",
    "0516", "0517", "0518", "0519", "0521", "0522", "0523", "0524", "0525", "0527", "0528", "0529",
    "0541", "0543", "0544", "0545", "0546", "0547", "0548", "0561", "0562", "0566", "0570", "0571",
    "0572", "0573", "0575", "0577", "0578", "0591", "0592", "0593", "0594", "0595", "0596", "0597",
    "0598", "0599",
)
MAIL_DOMAINS = ("example.nl", "example.org", "example.com", "example.net")  # never a real mailbox
BOARD_CODES = ("department_chair", "department_secretary", "department_treasurer", "department_board_member")
CANCELLATION_NOTES = (
    "", "", "", "Opgezegd per e-mail.", "Telefonisch afgemeld bij de secretaris.", "Via de ouders opgezegd.",
    "Gaat studeren in het buitenland.", "Opgezegd via het formulier op de website.",
)

DIPLOMAS = ("Geen", "VMBO", "HAVO", "VWO", "MBO", "HBO", "WO")
WORK_SITUATIONS = (
    "Scholier", "Student", "Werkend in loondienst", "Zelfstandig ondernemer", "Meewerkend in het familiebedrijf",
    "Werkzoekend", "Agrarisch ondernemer", "Vrijwilliger",
)
CUSTOM_FIELDS = (
    # code, label, type, choices, order
    ("diploma", "Diploma", CustomFieldType.CHOICE, "\n".join(DIPLOMAS), 10),
    ("werksituatie", "Werksituatie", CustomFieldType.TEXT, "", 20),
)


@dataclass
class _Pools:
    """Names and places drawn once from Faker; the relations are combined from them with a
    plain random generator, which is a hundred times faster than asking Faker per relation."""

    male_names: list[str]
    female_names: list[str]
    surnames: list[tuple[str, str]]  # (infix, surname)
    neighbourhoods: dict[int, list[tuple[str, str, list[str]]]]  # department id → (postcode digits, city, streets)


def populate(
    n: int,
    *,
    rng_seed: int = 2026,
    national: Tenant | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Top the federation up to `n` relations in total and return how many were added.

    The relations are spread over every department below `national` (the first national
    federation by default). The random generator is seeded with `rng_seed` and the number of
    relations already there, so the same command on the same database gives the same people.
    """
    if national is None:
        national = Tenant.objects.filter(depth=1, kind=TenantKind.NATIONAL).order_by("path").first()
        if national is None:
            raise ValueError("There is no national federation to fill; run seed_demo first.")
    departments = list(
        Tenant.objects.subtree(national).filter(kind=TenantKind.DEPARTMENT).order_by("path")
    )
    if not departments:
        raise ValueError(f"{national.name} has no departments to fill.")
    existing = Relation.objects.filter(national.subtree_filter("tenant")).count()
    missing = max(0, n - existing)
    say = progress or (lambda message: None)
    if not missing:
        say(f"{existing:,} relations already; nothing to add.")
        return 0

    function_types = dict(FunctionType.objects.filter(
        code__in=["department_member", "aspirant_member", *BOARD_CODES]
    ).values_list("code", "pk"))
    reasons = list(CancellationReason.objects.filter(active=True).order_by("order", "pk").values_list("pk", flat=True))
    _custom_fields_ensure(national)
    generator = _Generator(
        rng=random.Random(f"{rng_seed}-{existing}"), pools=_pools(rng_seed=rng_seed, departments=departments),
        departments=departments, function_types=function_types, reasons=reasons or [None],
        today=datetime.date.today(),
    )
    first_number = _relation_numbers_reserve(missing)
    relation_table = _Table(Relation)
    function_table = _Table(Function)

    done = functions_made = 0
    while done < missing:
        size = min(BATCH_SIZE, missing - done)
        numbers = range(first_number + done, first_number + done + size)
        cards, plans = generator.batch(numbers)
        with transaction.atomic():
            relation_table.write(cards)
            ids = dict(Relation.objects.filter(number__range=(numbers[0], numbers[-1])).values_list("number", "pk"))
            rows = [{**row, "relation_id": ids[card["number"]]}
                    for card, card_rows in zip(cards, plans, strict=True) for row in card_rows]
            function_table.write(rows)
            between = [numbers[0], numbers[-1]]
            _history_first_rows(Relation, "number BETWEEN %s AND %s", between)
            # The table name comes from the model, never from input.
            _history_first_rows(Function, f"relation_id IN (SELECT id FROM {Relation._meta.db_table} "  # noqa: S608
                                "WHERE number BETWEEN %s AND %s)", between)
        functions_made += len(rows)
        before, done = done, done + size
        if done // PROGRESS_EVERY > before // PROGRESS_EVERY or done == missing:
            say(f"  {done:>9,} / {missing:,} relations, {functions_made:,} functions")
    vacuum_analyze([Relation, Function])
    return missing


def _history_first_rows(model: type[models.Model], where: str, params: list) -> None:
    """The "+" history rows of the rows of `model` matching `where`, as simple-history writes
    them on a save through the services (values copied, dated when the row was made)."""
    history = model.history.model
    own = {f.column for f in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    columns, values = [], []
    for field in history._meta.concrete_fields:
        if field.primary_key and field.column == "history_id":
            continue
        columns.append(quote(field.column))
        if field.column in own:
            values.append(quote(field.column))
        elif field.column == "history_date":
            values.append(quote("created_at"))
        elif field.column == "history_type":
            values.append("'+'")
        else:
            values.append("NULL")
    table, source = quote(history._meta.db_table), quote(model._meta.db_table)
    with connection.cursor() as cursor:
        # Table and column names come from the models, never from input.
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source} WHERE {where}",  # noqa: S608
            params,
        )


def vacuum_analyze(models_: list[type[models.Model]]) -> None:
    """VACUUM ANALYZE the tables of `models_` (PostgreSQL; ANALYZE elsewhere). Without it a server
    that runs without autovacuum plans with stale statistics and, without a visibility map, reads
    the table row by row where an index alone would do (docs/benchmarks.md, issue 16)."""
    # VACUUM cannot run inside a transaction (a test's, say): ANALYZE alone there.
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for model in models_:
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"VACUUM ANALYZE {table}" if vacuum else f"ANALYZE {table}")


class _Table:
    """Writes rows (dicts keyed by attname; missing keys take the model field's default)
    straight into a model's table."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.columns = [f.column for f in self.fields]
        self.json_fields = {f.attname for f in self.fields if isinstance(f, models.JSONField)}

    def _defaults(self) -> dict:
        now = timezone.now()
        defaults = {f.attname: f.get_default() for f in self.fields}
        # Only the times every row has (created_at …): a nullable time such as anonymised_at stays empty.
        defaults.update({f.attname: now for f in self.fields if isinstance(f, models.DateTimeField) and not f.null})
        return defaults

    def _tuples(self, rows: Iterable[dict]) -> Iterable[tuple]:
        defaults = self._defaults()
        names = [f.attname for f in self.fields]
        for row in rows:
            values = {**defaults, **row}
            for name in self.json_fields:
                values[name] = json.dumps(values[name])
            yield tuple(values[name] for name in names)

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for values in self._tuples(rows):
                        copy.write_row(values)
                return
            # Other databases: let each field adapt its value (dates and times as the backend
            # stores them), then one executemany.
            adapt = [
                (i, f) for i, f in enumerate(self.fields)
                if isinstance(f, models.DateField | models.DecimalField | models.UUIDField)
            ]
            prepared = []
            for values in self._tuples(rows):
                values = list(values)
                for i, field in adapt:
                    values[i] = field.get_db_prep_save(values[i], connection)
                prepared.append(values)
            placeholders = ", ".join(["%s"] * len(self.columns))
            # Table and column names come from the model, never from input.
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", prepared)  # noqa: S608


def _relation_numbers_reserve(count: int) -> int:
    """Take a block of `count` consecutive relation numbers in one short transaction and return
    the first; registrations made meanwhile get numbers after the block."""
    with transaction.atomic():
        counter = RelationNumberCounter.objects.select_for_update().filter(pk=1).first()
        if counter is None:
            counter = RelationNumberCounter.objects.create(pk=1, value=100000)
        highest = Relation.objects.aggregate(highest=Max("number"))["highest"] or 0
        first = max(counter.value, highest) + 1
        counter.value = first + count - 1
        counter.save(update_fields=["value"])
    return first


def _custom_fields_ensure(national: Tenant) -> None:
    for code, label, field_type, choices, order in CUSTOM_FIELDS:
        CustomField.objects.get_or_create(
            tenant=national, code=code,
            defaults={"label": label, "field_type": field_type, "choices": choices, "order": order},
        )


def _split_infix(name: str) -> tuple[str, str] | None:
    """Faker's "van der Berg" as ("van der", "Berg"); None for names that are not a plain
    (possibly double-barrelled) Dutch surname."""
    if "," in name or not name:
        return None
    infix = ""
    for candidate in INFIXES:
        if name.lower().startswith(candidate + " "):
            infix, name = candidate, name[len(candidate) + 1:]
            break
    if " " in name or not name[:1].isupper():
        return None
    return infix, name


def _pools(*, rng_seed: int, departments: list[Tenant]) -> _Pools:
    from faker import Faker
    from faker.providers.person.nl_NL import Provider as DutchNames

    fake = Faker("nl_NL")
    fake.seed_instance(rng_seed)
    surnames = [split for name in dict.fromkeys(DutchNames.last_names) if (split := _split_infix(name))]
    neighbourhoods = {}
    for department in departments:
        places = []
        for _ in range(12):
            digits = f"{fake.random_int(1000, 9999)}"
            city = fake.city()
            streets = list(dict.fromkeys(fake.street_name() for _ in range(8)))
            places.append((digits, city, streets))
        neighbourhoods[department.pk] = places
    return _Pools(
        male_names=sorted(set(DutchNames.first_names_male)),
        female_names=sorted(set(DutchNames.first_names_female)),
        surnames=surnames,
        neighbourhoods=neighbourhoods,
    )


@functools.lru_cache(maxsize=8192)
def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


class _Card(dict):
    """A relation about to be written: its column values, readable as attributes so that
    services.search_text_for makes the search text exactly as it does for a saved card."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class _Generator:
    """Makes batches of relation cards and, per card, the function rows to add."""

    def __init__(self, *, rng: random.Random, pools: _Pools, departments: list[Tenant],
                 function_types: dict[str, int], reasons: list, today: datetime.date):
        self.rng = rng
        self.pools = pools
        self.departments = departments
        self.names = {d.pk: d.name for d in departments}
        self.department_ids = [d.pk for d in departments]
        self.types = function_types
        self.reasons = reasons
        self.today = today
        self.birth_span = (BIRTH_TO - BIRTH_FROM).days

    def batch(self, numbers: range) -> tuple[list[_Card], list[list[dict]]]:
        cards: list[_Card] = []
        plans: list[list[dict]] = []
        for number in numbers:
            if cards and self.rng.random() < SHARED_ADDRESS_SHARE:
                card = self._sibling(self.rng.choice(cards[-200:]), number)
            else:
                card = self._person(number)
            card["search_text"] = search_text_for(card)
            cards.append(card)
            plans.append(self._functions(card))
        return cards, plans

    # --- the card ---

    def _card(self, number: int, department_id: int) -> _Card:
        return _Card(
            number=number, kind=RelationKind.PERSON.value, tenant_id=department_id, organisation_name="",
            country="NL", house_number_suffix="", phone="", mobile="", email="",
        )

    def _person(self, number: int) -> _Card:
        rng = self.rng
        department_id = rng.choice(self.department_ids)
        card = self._card(number, department_id)
        card["gender"] = rng.choices(("f", "m", "x"), weights=(49, 49, 2))[0]
        card["infix"], card["last_name"] = rng.choice(self.pools.surnames)
        digits, city, streets = rng.choice(self.pools.neighbourhoods[department_id])
        card.update(
            postcode=f"{digits} {self._postcode_letters()}", house_number=rng.randint(1, 250),
            street=rng.choice(streets), city=city,
        )
        if rng.random() < 0.04:
            card["house_number_suffix"] = rng.choice("ABC")
        self._given_names(card)
        return card

    def _sibling(self, other: _Card, number: int) -> _Card:
        """A brother or sister: same family name and address, same department."""
        card = self._card(number, other["tenant_id"])
        card["gender"] = self.rng.choice(("f", "m"))
        for name in ("infix", "last_name", "postcode", "house_number", "house_number_suffix", "street", "city"):
            card[name] = other[name]
        self._given_names(card, near=other["birth_date"])
        return card

    def _given_names(self, card: _Card, near: datetime.date | None = None) -> None:
        rng = self.rng
        if card["gender"] == Gender.FEMALE:
            pool = self.pools.female_names
        elif card["gender"] == Gender.MALE:
            pool = self.pools.male_names
        else:
            pool = rng.choice((self.pools.female_names, self.pools.male_names))
        first = rng.choice(pool)
        second = rng.choice(pool) if rng.random() < 0.35 else ""
        card["first_name"] = first
        card["initials"] = "".join(f"{name[0].upper()}." for name in (first, second) if name)
        if near is not None:
            birth = near + datetime.timedelta(days=rng.choice((-1, 1)) * rng.randint(300, 2500))
            card["birth_date"] = min(max(birth, BIRTH_FROM), BIRTH_TO)
        else:
            card["birth_date"] = BIRTH_FROM + datetime.timedelta(days=rng.randint(0, self.birth_span))
        if rng.random() < EMAIL_SHARE:
            local = ".".join(p for p in (_ascii(first), _ascii(card["infix"]), _ascii(card["last_name"])) if p)
            if rng.random() < 0.5:
                local += str(rng.randint(1, 99))
            card["email"] = f"{local}@{rng.choice(MAIL_DOMAINS)}"
        if rng.random() < 0.8:
            card["mobile"] = f"06-{rng.randint(10_000_000, 99_999_999)}"
        if rng.random() < 0.3:
            area = rng.choice(AREA_CODES)
            card["phone"] = f"{area}-{rng.randint(10 ** (9 - len(area)), 10 ** (10 - len(area)) - 1)}"
        extra = {}
        if rng.random() < 0.4:
            extra["diploma"] = rng.choice(DIPLOMAS)
        if rng.random() < 0.25:
            extra["werksituatie"] = rng.choice(WORK_SITUATIONS)
        card["extra"] = extra

    def _postcode_letters(self) -> str:
        while True:
            letters = "".join(self.rng.choices(POSTCODE_LETTERS, k=2))
            if letters not in ("SA", "SD", "SS"):
                return letters

    # --- the functions ---

    def _date_between(self, first: datetime.date, last: datetime.date) -> datetime.date:
        if last <= first:
            return first
        return first + datetime.timedelta(days=self.rng.randint(0, (last - first).days))

    def _functions(self, card: _Card) -> list[dict]:
        """The rows of the "Functies" tab: the membership, perhaps what came before it, perhaps a
        board function. Every row respects the rules the services enforce."""
        rng, today, department_id = self.rng, self.today, card["tenant_id"]
        yesterday = today - datetime.timedelta(days=1)
        birth = card["birth_date"]
        start = self._date_between(max(_add_years(birth, 12), EARLIEST_START), today - datetime.timedelta(days=30))
        roll = rng.random()
        if roll < ASPIRANT_SHARE:
            aspirant_start = self._date_between(max(_add_years(birth, 10), EARLIEST_START), yesterday)
            return [self._row("aspirant_member", department_id, aspirant_start)]
        membership = self._row("department_member", department_id, start)
        rows = [membership]
        history = rng.random()
        if history < ASPIRANT_FIRST_SHARE:
            aspirant_start = start - datetime.timedelta(days=rng.randint(200, 1500))
            if aspirant_start >= EARLIEST_START:
                rows.append(self._row("aspirant_member", department_id, aspirant_start,
                                      end=start - datetime.timedelta(days=1)))
        elif history < ASPIRANT_FIRST_SHARE + TRANSFERRED_SHARE and len(self.department_ids) > 1:
            earlier = rng.choice(self.department_ids)
            earlier_start = start - datetime.timedelta(days=rng.randint(200, 2000))
            if earlier != department_id and earlier_start >= EARLIEST_START:
                rows.append(self._row(
                    "department_member", earlier, earlier_start, end=start - datetime.timedelta(days=1),
                    note=f"Overgeschreven naar {self.names[department_id]}",
                ))
        if roll < ASPIRANT_SHARE + ENDED_SHARE and start < yesterday:
            membership["end_date"] = self._date_between(start + datetime.timedelta(days=1), yesterday)
            membership["cancellation_reason_id"] = rng.choice(self.reasons)
            membership["cancellation_note"] = rng.choice(CANCELLATION_NOTES)
        elif rng.random() < BOARD_SHARE / (1 - ASPIRANT_SHARE - ENDED_SHARE):
            board_start = self._date_between(start, yesterday)
            board = department_id
            if rng.random() < GUEST_BOARD_SHARE:
                board = rng.choice(self.department_ids)
            rows.append(self._row(rng.choice(BOARD_CODES), board, board_start))
        # Every row is held in a department, and departments have no children: a row is held
        # outside the home exactly when its department is not the home (Function.outside_home).
        for row in rows:
            row["outside_home"] = row["tenant_id"] != department_id
        return rows

    def _row(self, code: str, tenant_id: int, start: datetime.date, *, end: datetime.date | None = None,
             note: str = "") -> dict:
        return {
            "function_type_id": self.types[code], "tenant_id": tenant_id, "start_date": start, "end_date": end,
            "cancellation_reason_id": None, "cancellation_note": note,
        }


def _add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
