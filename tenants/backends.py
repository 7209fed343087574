"""Authentication: log in with username or e-mail; permissions through the tenant chain."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import router
from django.http import HttpRequest
from guardian.backends import ObjectPermissionBackend
from guardian.exceptions import WrongAppError

from .access import grants_for, tenants_of
from .compiled import CompiledQueries


class TenantRoleBackend(ModelBackend):
    """Answers `user.has_perm(perm, obj)` from the roles the user holds on the object's tenant
    (or tenants, `access.tenants_of`) or any tenant above it. Without an object it answers like Django's ModelBackend (global
    permissions, which only operators in Django's admin need)."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        user = User.objects.find_for_login(username)
        if user is None:
            # Hash anyway, so the response time does not tell whether the account exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        """The user of a logged-in session, asked on every request: the query's SQL is compiled
        once per user (tenants/compiled.py), the row read every time."""
        User = get_user_model()
        found = _user_queries.objects(
            user_id, User, lambda: User._default_manager.filter(pk=user_id), router.db_for_read(User)
        )
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if obj is None:
            return super().get_all_permissions(user_obj)
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        grants = grants_for(user_obj)
        return set().union(*(grants.permissions_on(tenant) for tenant in tenants_of(obj)))

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        if obj is None:
            return super().has_perm(user_obj, perm)
        return perm in self.get_all_permissions(user_obj, obj)


_user_queries = CompiledQueries()


def axes_username(request: HttpRequest, credentials: dict | None) -> str:
    """The key django-axes counts failures under: the account's username when the visitor typed
    its e-mail address, so switching between the two does not buy extra attempts."""
    typed = (credentials or {}).get("username")
    if typed is None:
        typed = request.POST.get("username", "")
    typed = (typed or "").strip()
    user = get_user_model().objects.find_for_login(typed)
    return user.username.lower() if user else typed.lower()


class ObjectGrantBackend(ObjectPermissionBackend):
    """django-guardian's explicit per-object grants (e.g. a wizard shared with a named user).

    Permissions in this app are often asked about a tenant ("may add relations here?"); guardian
    would raise for a permission of another app than the object's, where the answer is simply
    "no explicit grant".
    """

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        try:
            return super().has_perm(user_obj, perm, obj)
        except WrongAppError:
            return False

    def get_all_permissions(self, user_obj, obj=None):
        try:
            return super().get_all_permissions(user_obj, obj)
        except WrongAppError:
            return set()
