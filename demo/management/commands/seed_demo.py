"""Build the demo federation: national, 12 provinces, their departments, one user per role.

Safe to run twice: existing environments and users are found by name and left in place.
"""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dashboard.counts import counts_rebuild
from demo.intake import intake_demo_ensure
from demo.relations import populate
from memberships.card import relation_create
from memberships.models import FunctionType
from memberships.services import function_start
from portal.services import member_login_ensure
from relations.models import Relation
from relations.services import relation_login_link
from tenants.models import Role, RoleAssignment, Tenant, TenantKind, TwoFactorPolicy, User
from tenants.services import role_assignment_create, tenant_create
from tenants.two_factor import two_factor_policy_set

# A member with a login for the member portal (issue 18): no role, only their own card.
DEMO_MEMBER = {"kind": "person", "first_name": "Femke", "last_name": "Smit", "email": "lid@demo.example",
               "postcode": "7001 AB", "house_number": 12, "street": "Hoofdstraat", "city": "Doetinchem"}
DEMO_PASSWORD = "ledenbeheer-demo"  # noqa: S105  (printed for the demo; never used outside it)
NATIONAL_NAME = "Landelijke Jongerenfederatie"

PROVINCES = {
    "Groningen": ["Hoogeland", "Westerkwartier", "Oldambt", "Veenkoloniën", "Midden-Groningen"],
    "Friesland": ["Noardeast-Fryslân", "Súdwest-Fryslân", "De Fryske Marren", "Waadhoeke", "Smallingerland"],
    "Drenthe": ["Aa en Hunze", "Westerveld", "Midden-Drenthe", "De Wolden", "Borger-Odoorn"],
    "Overijssel": ["Twenterand", "Salland", "Noordoost-Twente", "Staphorst", "Dinkelland"],
    "Flevoland": ["Noordoostpolder", "Dronten", "Zeewolde", "Urk", "Lelystad"],
    "Gelderland": ["Achterhoek", "Betuwe", "Veluwe", "Liemers", "Bommelerwaard"],
    "Utrecht": ["Lopikerwaard", "Eemland", "Vijfheerenlanden", "Woerden", "Utrechtse Heuvelrug"],
    "Noord-Holland": ["West-Friesland", "Kop van Noord-Holland", "Zaanstreek", "Gooi", "Wieringermeer"],
    "Zuid-Holland": ["Alblasserwaard", "Krimpenerwaard", "Hoeksche Waard", "Goeree-Overflakkee", "Rijnland"],
    "Zeeland": ["Zeeuws-Vlaanderen", "Walcheren", "Schouwen-Duiveland", "Tholen", "Zuid-Beveland"],
    "Noord-Brabant": ["De Kempen", "Peelland", "Meierij", "Land van Cuijk", "Baronie"],
    "Limburg": ["Noord-Limburg", "Midden-Limburg", "Zuid-Limburg", "Peel en Maas", "Venray"],
}

# (username, first name, surname, role code, where: "national" | province name | (province, department))
DEMO_USERS = [
    ("landelijk.sb", "Sanne", "de Boer", "national_system_administrator", "national"),
    ("landelijk.la", "Lars", "Visser", "national_member_administrator", "national"),
    ("provincie.sb", "Pieter", "Jansen", "province_system_administrator", "Gelderland"),
    ("provincie.la", "Petra", "Bakker", "province_member_administrator", "Gelderland"),
    ("afdeling.la", "Anna", "Mulder", "department_member_administrator", ("Gelderland", "Achterhoek")),
]


class Command(BaseCommand):
    help = "Load the demo federation (national, 12 provinces, 5 departments each, a user per role)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEMO_PASSWORD, help="Password of the demo users.")
        parser.add_argument(
            "--members", type=int, default=0,
            help="Top the federation up to this many demo relations in total, with their functions "
            "(running it again with the same number adds nothing).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed of the demo relations.")

    def handle(self, *args, password: str, members: int, seed: int, **options):
        if members < 0:
            raise CommandError("--members cannot be negative.")
        tenants = self._federation(password)
        if members:
            # Outside the federation's transaction: the relations are committed in batches, so an
            # interrupted load keeps what it made and the next run tops up the rest.

            national = Tenant.objects.get(depth=1, name=NATIONAL_NAME)
            added = populate(members, rng_seed=seed, national=national, progress=self.stdout.write)
            self.stdout.write(self.style.SUCCESS(f"Demo relations: {added} added, {members} wanted in total."))
        self._intake(tenants["national"])
        # The dashboard's counts from the rows just loaded (the loader writes them in bulk, past
        # the services that keep the counts up to date); the nightly job rebuilds them too.
        counts_rebuild(datetime.date.today())
        self._print_users(tenants, password)

    @transaction.atomic
    def _federation(self, password: str) -> dict:
        national = Tenant.objects.filter(depth=1, name=NATIONAL_NAME).first()
        if national is None:
            national = tenant_create(
                parent=None, kind=TenantKind.NATIONAL, name=NATIONAL_NAME, short_name="Federatie",
                email="info@federatie.example", language="nl", postal_city="Utrecht",
            )
        tenants: dict = {"national": national}
        if not TwoFactorPolicy.objects.exists():
            # The demo is for trying things out: no role needs a phone app to log in. National can
            # require it per role (Two-factor login page), as the default outside the demo does.
            two_factor_policy_set(actor=None, roles=[])
        for province_name, departments in PROVINCES.items():
            province = self._child(national, TenantKind.PROVINCE, f"Provincie {province_name}")
            tenants[province_name] = province
            for department_name in departments:
                tenants[(province_name, department_name)] = self._child(
                    province, TenantKind.DEPARTMENT, f"Afdeling {department_name}"
                )

        today = datetime.date.today()
        for username, first_name, last_name, role_code, where in DEMO_USERS:
            tenant = tenants[where]
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first_name, "last_name": last_name, "tenant": tenant,
                    "email": f"{username}@demo.example",
                },
            )
            user.set_password(password)
            user.is_active = True
            user.must_change_password = False
            user.save()
            role = Role.objects.get(code=role_code)
            if role_code == "department_member_administrator":
                # Their role comes with the function on their card, as in real use (SPEC T5).
                self._administrator_card(user, tenant, start_date=today - datetime.timedelta(days=365))
            elif not RoleAssignment.objects.active_on(today).filter(user=user, tenant=tenant, role=role).exists():
                role_assignment_create(
                    actor=None, user=user, tenant=tenant, role=role, start_date=today - datetime.timedelta(days=365)
                )

        self._portal_member(tenants[("Gelderland", "Achterhoek")], password)
        return tenants

    def _portal_member(self, department: Tenant, password: str) -> None:
        """A member of Afdeling Achterhoek with a portal login (made by the portal's service, as a
        login link would), with the demo password too, so the demo shows the member portal."""
        relation = Relation.objects.filter(email=DEMO_MEMBER["email"]).first()
        if relation is None:
            relation = relation_create(
                actor=None, tenant=department, data=DEMO_MEMBER,
                function_type=FunctionType.objects.get(code="department_member"), function_tenant=department,
                start_date=datetime.date.today() - datetime.timedelta(days=400),
            )
        user = member_login_ensure(actor=None, relation=relation)
        user.set_password(password)
        user.save(update_fields=["password"])

    def _administrator_card(self, user: User, department: Tenant, *, start_date: datetime.date) -> None:
        """The department administrator's relation card, holding the function that gives the
        ledenmodule (SPEC T5) and with it their role, so the demo shows the card and "Meekijken"
        on it. Made as a real one is: the card, its login linked, then the function (whose
        service gives the login the role)."""

        if Relation.objects.filter(user=user).exists():
            return
        relation = relation_create(
            actor=None, tenant=department,
            data={"kind": "person", "first_name": user.first_name, "last_name": user.last_name, "email": user.email},
            function_type=FunctionType.objects.get(code="department_member"), function_tenant=department,
            start_date=start_date,
        )
        relation_login_link(relation=relation, user=user)
        # A function that gives access starts today at the earliest (memberships' rule).
        function_start(
            actor=None, relation=relation, tenant=department, start_date=datetime.date.today(),
            function_type=FunctionType.objects.get(code="department_member_administration"),
        )

    def _print_users(self, tenants: dict, password: str) -> None:
        """The demo logins, last, so they are what the terminal shows when the seed is done."""
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo federation ready: {Tenant.objects.count()} environments, "
                f"{len(DEMO_USERS)} demo users."
            )
        )
        for username, _first, _last, role_code, where in DEMO_USERS:
            place = tenants[where].name
            self.stdout.write(f"  {username:<14} {Role.objects.get(code=role_code).label} — {place}")
        self.stdout.write(f"  {DEMO_MEMBER['email']:<14} member (no role): the member portal /portal/ — Afdeling Achterhoek")
        self.stdout.write("Two-factor login: optional for every role in the demo.")
        self.stdout.write(f"Wachtwoord: {password}")

    def _intake(self, national: Tenant) -> None:
        from django.conf import settings
        from django.urls import reverse


        forms = intake_demo_ensure(national)
        gelderland = next((f for f in forms if f.tenant.name == "Provincie Gelderland"), forms[0])
        url = settings.SITE_URL + reverse("intake_public", kwargs={"slug": gelderland.slug})
        self.stdout.write(f"Openbaar inschrijfformulier ({gelderland.tenant.name}): {url}")

    def _child(self, parent: Tenant, kind: str, name: str) -> Tenant:
        existing = Tenant.objects.children_of(parent).filter(name=name).first()
        if existing is not None:
            return existing
        return tenant_create(parent=parent, kind=kind, name=name, language="nl")
