"""Who may do what where: role assignments resolved along the tenant tree.

A role given on a tenant grants its permissions on that tenant and on everything below it.
Everything in the app asks `user.has_perm(perm, obj)` (answered by `backends.TenantRoleBackend`
through this module) or a queryset's `visible_to(user, tenant)`; no code compares role names.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import router
from django.http import Http404

from .compiled import CompiledQueries
from .periods import has_ended

if TYPE_CHECKING:
    from django.http import HttpRequest

    from .models import Tenant, User


@dataclass(frozen=True)
class Grant:
    tenant_id: int
    tenant_path: str
    role_id: int
    permissions: frozenset[str]


class TenantGrants:
    """The current role assignments of one user, loaded once per request."""

    def __init__(self, grants: list[Grant], day: datetime.date, generation: int = 0, *, fixed: bool = False):
        self.grants = grants
        self.day = day
        self.generation = generation
        # Set by `grants_fix` for a service login: not read from role assignments, never stale.
        self.fixed = fixed

    @property
    def root_paths(self) -> list[str]:
        """The highest tenants the user holds a role on (none lies below another)."""
        roots: list[str] = []
        for path in sorted({g.tenant_path for g in self.grants}, key=len):
            if not any(path.startswith(root) for root in roots):
                roots.append(path)
        return roots

    @property
    def tenant_ids(self) -> set[int]:
        return {g.tenant_id for g in self.grants}

    def covers(self, tenant: Tenant) -> bool:
        return any(tenant.path.startswith(g.tenant_path) for g in self.grants)

    def permissions_on(self, tenant: Tenant) -> set[str]:
        perms: set[str] = set()
        for grant in self.grants:
            if tenant.path.startswith(grant.tenant_path):
                perms |= grant.permissions
        return perms


# Bumped by `forget_grants` whenever a role is given, ended or removed in this process. Grants
# cached on any user object loaded before then (another instance of the same login, a request
# still running) are stale and reload: a change takes effect at once, not at the next request.
_grants_generation = 0
_grant_queries = CompiledQueries()


def grants_for(user: User, day: datetime.date | None = None) -> TenantGrants:
    """The user's role grants on `day` (today by default), cached on the user object."""
    from .models import RoleAssignment

    day = day or datetime.date.today()
    cached = getattr(user, "_tenant_grants", None)
    if cached is not None and (cached.fixed or (cached.day == day and cached.generation == _grants_generation)):
        return cached
    generation = _grants_generation
    # One query: each current assignment with its role's permissions (a row per permission; an
    # assignment whose role has none comes once, with NULLs). Every page asks this first, so its
    # SQL is compiled once per user and day (tenants/compiled.py); the rows are read every time.
    rows = _grant_queries.rows(
        (user.pk, day),
        lambda: (
            RoleAssignment.objects.active_on(day)
            .filter(user_id=user.pk)
            .order_by("start_date", "pk")
            .values_list("tenant_id", "tenant__path", "role_id",
                         "role__permissions__content_type__app_label", "role__permissions__codename")
        ),
        router.db_for_read(RoleAssignment),
    )
    assignments: dict[tuple[int, str, int], None] = {}
    role_perms: dict[int, set[str]] = {}
    for tenant_id, path, role_id, app_label, codename in rows:
        assignments[(tenant_id, path, role_id)] = None
        perms = role_perms.setdefault(role_id, set())
        if codename is not None:
            perms.add(f"{app_label}.{codename}")
    grants = TenantGrants(
        [
            Grant(tenant_id, path, role_id, frozenset(role_perms.get(role_id, ())))
            for tenant_id, path, role_id in assignments
        ],
        day,
        generation,
    )
    user._tenant_grants = grants
    return grants


def grants_fix(user: User, *, tenant: Tenant, permissions: frozenset[str]) -> TenantGrants:
    """Give a service login — the login an API token acts as (api/services.py) — exactly
    `permissions` on `tenant` and everything below it, for the life of this user object (one
    request). A token holds no role assignment: it is its environment's, with the powers of its
    scope. Everything else then answers for it as for a person: `can_enter`, `has_perm` (through
    `backends.TenantRoleBackend`) and every `visible_to`."""
    grants = TenantGrants(
        [Grant(tenant.pk, tenant.path, 0, frozenset(permissions))], datetime.date.today(), fixed=True
    )
    user._tenant_grants = grants
    return grants


def forget_grants(user: User | None = None) -> None:
    """Drop cached grants after a role was given, ended or removed: this user object's at once,
    and those cached on every other user object in this process at their next question (the
    role services call this; other processes load their grants per request)."""
    global _grants_generation
    _grants_generation += 1
    if user is not None:
        user.__dict__.pop("_tenant_grants", None)
        user.__dict__.pop("_perm_cache", None)


def tenants_of(obj: Any) -> list[Tenant]:
    """The tenants whose chains answer permission questions about `obj`: its `access_tenants`
    when it lies in several places (a relation: its home and where it is a guest), else its
    `access_tenant`."""
    if hasattr(obj, "access_tenants"):
        return obj.access_tenants
    tenant = getattr(obj, "access_tenant", None)
    return [] if tenant is None else [tenant]


def can_enter(user: User, tenant: Tenant) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or grants_for(user).covers(tenant)


def may_list(user: User, tenant: Tenant | None, perm: str | None = None) -> bool:
    """The first test of every `visible_to`: an environment is chosen, `user` may enter it and,
    when `perm` is given, holds that permission there. Without it a list is empty."""
    if tenant is None or not can_enter(user, tenant):
        return False
    return perm is None or user.has_perm(perm, tenant)


def is_looking_along(user: User, tenant: Tenant | None) -> bool:
    """True when the user works in an environment below the ones they hold a role in."""
    if tenant is None or user.is_superuser:
        return False
    return tenant.pk not in grants_for(user).tenant_ids


def can_manage_user(actor: User, user: User, perm: str, assignments=None) -> bool:
    """An account is managed by administrators above it: `perm` on its home environment and on
    every environment where it holds a role that has not ended. Otherwise a province
    administrator could set a temporary password for an account that also holds a national role
    and log in with national powers."""
    from .models import RoleAssignment

    if actor.is_superuser:
        return True
    if user.tenant is None or not actor.has_perm(perm, user.tenant):
        return False
    today = datetime.date.today()
    if assignments is None:
        assignments = RoleAssignment.objects.not_ended(today).filter(user=user).select_related("tenant")
    tenants = {a.tenant for a in assignments if not has_ended(a.end_date, today)}
    return all(actor.has_perm(perm, tenant) for tenant in tenants)


def require_perm(request: HttpRequest, perm: str, obj: Any = None) -> None:
    """Raise 403 unless the user holds `perm` on `obj` (default: the current environment)."""
    target = obj if obj is not None else request.tenant
    if target is None or not request.user.has_perm(perm, target):
        raise PermissionDenied


def get_tenant_or_404(request: HttpRequest, pk: int) -> Tenant:
    from .models import Tenant

    try:
        return Tenant.objects.visible_to(request.user, request.tenant).get(pk=pk)
    except Tenant.DoesNotExist:
        raise Http404 from None


def get_user_or_404(request: HttpRequest, pk: int) -> User:
    from .models import User

    try:
        return User.objects.visible_to(request.user, request.tenant).select_related("tenant").get(pk=pk)
    except User.DoesNotExist:
        raise Http404 from None


def environment_required(view):
    """Log in first; then refuse (403) users who hold no role in any environment."""
    from functools import wraps

    from django.contrib.auth.decorators import login_required

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.tenant is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


# --- the ledenmodule and looking along (SPEC L1, T7) -------------------------------------------

LEDENMODULE_PERM = "tenants.use_ledenmodule"
LOOK_ALONG_PERM = "tenants.look_along"


def works_in_ledenmodule_only(request: HttpRequest) -> bool:
    """Department administrators (and whoever looks along with one) have the ledenmodule as
    their home ([000] "Ingelogd en dan?")."""
    if request.looked_along_user is not None:
        return True
    grants = grants_for(request.user).grants
    return bool(grants) and all(LEDENMODULE_PERM in g.permissions for g in grants)


def ledenmodule_departments(user: User) -> list[Tenant]:
    """The departments whose ledenmodule `user` works in today: where a current role carries
    the ledenmodule power (the function "Ledenadministratie afdeling" grants one), by name."""
    from .models import Tenant, TenantKind

    cached = getattr(user, "_ledenmodule_departments", None)
    grants = grants_for(user)
    if cached is not None and cached[0] is grants:
        return cached[1]
    ids = {g.tenant_id for g in grants.grants if LEDENMODULE_PERM in g.permissions}
    departments = list(Tenant.objects.filter(pk__in=ids, kind=TenantKind.DEPARTMENT).order_by("name")) if ids else []
    user._ledenmodule_departments = (grants, departments)
    return departments


def may_look_along(actor: User, target: User) -> bool:
    """A national administrator may look along with a department administrator in their
    ledenmodule; province administrators may not (SPEC T7)."""
    if not actor.is_authenticated or not actor.is_active or not target.is_active or actor.pk == target.pk:
        return False
    departments = ledenmodule_departments(target)
    return bool(departments) and all(actor.has_perm(LOOK_ALONG_PERM, d) for d in departments)
