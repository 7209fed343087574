"""Looking along (SPEC T7): a national administrator works in a department administrator's
ledenmodule. The named operations on that state — start, stop, current — for every caller.

The state itself lives in the session under keys kept by tenants.middleware, which reads it on
every request (the base layer cannot import this module) and sets `request.looked_along_user`.
"""

from __future__ import annotations

from django.http import HttpRequest

from tenants.access import ledenmodule_departments, may_look_along
from tenants.middleware import look_along_forget, look_along_keep
from tenants.models import Tenant, User
from tenants.services import look_along_started, look_along_stopped


def current(request: HttpRequest) -> User | None:
    """The department administrator `request.user` looks along with in this request, if any."""
    return getattr(request, "looked_along_user", None)


def start(request: HttpRequest, *, target: User) -> Tenant | None:
    """Step into `target`'s ledenmodule, in their first department, from the next request on,
    and log it. Returns that department, or None (and changes nothing) when the user may not
    look along with `target` or already looks along with someone."""
    if current(request) is not None or not may_look_along(request.user, target):
        return None
    department = ledenmodule_departments(target)[0]
    look_along_keep(request, target=target, department=department)
    look_along_started(actor=request.user, target=target, department=department)
    return department


def stop(request: HttpRequest) -> User | None:
    """Stop looking along from the next request on and log it: back in the environment the user
    came from. Returns the person looked along with, or None when the user was not."""
    target = current(request)
    look_along_forget(request)
    if target is None:
        return None
    look_along_stopped(actor=request.user, target=target, department=request.tenant)
    return target
