"""Reads of tenants, users and role assignments, scoped to what a user may see."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from treebeard.mp_tree import MP_NodeManager, MP_NodeQuerySet

from .periods import held_on_q, not_ended_q

if TYPE_CHECKING:
    from .models import Tenant, User


class TenantQuerySet(MP_NodeQuerySet):
    def subtree(self, tenant: Tenant) -> TenantQuerySet:
        """The tenant and everything below it: one indexed prefix filter."""
        return self.filter(tenant.subtree_filter())

    def subtree_at(self, path: str) -> TenantQuerySet:
        """The tenant at `path` and everything below it."""
        return self.filter(self.model.subtree_filter_at(path))

    def children_of(self, tenant: Tenant) -> TenantQuerySet:
        """The tenants directly below `tenant`."""
        return self.subtree(tenant).filter(depth=tenant.depth + 1)

    def enterable_by(self, user: User) -> TenantQuerySet:
        """The environments a user may enter: where they hold a current role, and below."""
        from .access import grants_for

        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        roots = grants_for(user).root_paths
        if not roots:
            return self.none()
        return self.filter(self.model.subtrees_filter(roots))

    def visible_to(self, user: User, tenant: Tenant | None) -> TenantQuerySet:
        """The tenants shown in environment `tenant`: its subtree, if the user may enter it."""
        from .access import may_list

        if not may_list(user, tenant):
            return self.none()
        return self.subtree(tenant)


class TenantManager(MP_NodeManager.from_queryset(TenantQuerySet)):
    def get_queryset(self) -> TenantQuerySet:
        return TenantQuerySet(self.model, using=self._db).order_by("path")


class UserQuerySet(models.QuerySet):
    def visible_to(self, user: User, tenant: Tenant | None) -> UserQuerySet:
        """Users of environment `tenant` and below: managed there, or holding a role there
        that has not ended."""
        from .access import may_list
        from .models import RoleAssignment

        if not may_list(user, tenant):
            return self.none()
        today = datetime.date.today()
        role_below = RoleAssignment.objects.filter(
            not_ended_q(today),
            tenant.subtree_filter("tenant"),
            user=OuterRef("pk"),
        )
        return self.filter(tenant.subtree_filter("tenant") | Exists(role_below))

    def find_for_login(self, login: str) -> User | None:
        """The user whose username or e-mail address is `login` (case does not matter)."""
        login = login.strip()
        if not login:
            return None
        users = list(
            self.filter(Q(username__iexact=login) | Q(email__iexact=login)).order_by("pk")[:2]
        )
        # A username match wins over somebody else's e-mail address.
        for user in users:
            if user.username.lower() == login.lower():
                return user
        return users[0] if len(users) == 1 else None

    def with_email(self, email: str) -> UserQuerySet:
        return self.annotate(email_lower=Lower("email")).filter(email_lower=email.strip().lower())


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    pass


class RoleAssignmentQuerySet(models.QuerySet):
    def active_on(self, day: datetime.date) -> RoleAssignmentQuerySet:
        """Assignments that grant their role on `day` (same definition as functions:
        `tenants.periods`)."""
        return self.filter(held_on_q(day))

    def not_ended(self, day: datetime.date) -> RoleAssignmentQuerySet:
        """Current and future assignments."""
        return self.filter(not_ended_q(day))
