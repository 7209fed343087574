"""The tenant tree (national → province → department), users, roles and role assignments."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractUser, Permission
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device
from simple_history.models import HistoricalRecords
from treebeard.mp_tree import MP_Node

from .periods import is_held_on
from .querysets import RoleAssignmentQuerySet, TenantManager, UserManager


class TenantKind(models.TextChoices):
    NATIONAL = "national", _("National")
    PROVINCE = "province", _("Province")
    DEPARTMENT = "department", _("Department")


# The depth of the provinces in the tree: the root (the federation) is at depth 1.
PROVINCE_DEPTH = 2

# A child is of the same or a lower kind than its parent; the model allows any depth.
KIND_RANK = {TenantKind.NATIONAL: 0, TenantKind.PROVINCE: 1, TenantKind.DEPARTMENT: 2}


class Language(models.TextChoices):
    DUTCH = "nl", _("Dutch")
    ENGLISH = "en", _("English")


def logo_upload_to(tenant: Tenant, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "png"
    return f"logos/tenant-{tenant.pk}.{extension}"


class Tenant(MP_Node):
    """An environment: the federation, a province or a department.

    The materialised path (`path`, `steplen` characters per level) makes "this tenant and
    everything below it" one indexed prefix filter (`LIKE 'path%'`). Code speaks of the tree in
    these words, never in slices of `path`:

    - `subtree_filter(prefix)`: a `Q` for "this tenant or below it", on this model or, with
      `prefix="tenant"`, on any model's foreign key to it (`Relation`, `Function`, ...);
      `subtree_filter_at(path, prefix)` and `subtrees_filter(paths, prefix)` do the same for
      paths already at hand. `Tenant.objects.subtree(tenant)` is the queryset of the subtree.
    - `is_within(other)`: this tenant is `other` or lies below it (in Python, no query).
    - `ancestor_paths()`: the paths of this tenant and everything above it, root first;
      `parent_path`, `root_path` and `province_path` name single steps of it.
    - `depth_of(path)`: the depth of a path (the root has depth 1, a province 2).
    """

    kind = models.CharField(_("kind"), max_length=20, choices=TenantKind.choices)
    name = models.CharField(_("official name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    registration_number = models.CharField(
        _("registration number"), max_length=30, blank=True,
        help_text=_("Chamber of Commerce (KvK) number or similar."),
    )
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    website = models.URLField(_("website"), blank=True)
    iban = models.CharField(_("bank account (IBAN)"), max_length=34, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.DUTCH
    )
    logo = models.ImageField(_("logo"), upload_to=logo_upload_to, blank=True)

    postal_street = models.CharField(_("street"), max_length=120, blank=True)
    postal_house_number = models.CharField(_("house number"), max_length=20, blank=True)
    postal_postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    postal_city = models.CharField(_("city"), max_length=80, blank=True)
    postal_country = models.CharField(_("country"), max_length=2, default="NL", blank=True)

    billing_street = models.CharField(_("street"), max_length=120, blank=True)
    billing_house_number = models.CharField(_("house number"), max_length=20, blank=True)
    billing_postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    billing_city = models.CharField(_("city"), max_length=80, blank=True)
    billing_country = models.CharField(_("country"), max_length=2, default="NL", blank=True)

    node_order_by = ["name"]

    objects = TenantManager()

    class Meta:
        verbose_name = _("environment")
        verbose_name_plural = _("environments")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=TenantKind.values), name="tenant_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def access_tenant(self) -> Tenant:
        return self

    # --- the tree, in words (see the class docstring) ---

    def subtree_filter(self, prefix: str = "") -> Q:
        """This tenant and everything below it, as a filter on `prefix` (a foreign key to
        Tenant, e.g. "tenant" or "relation__tenant"; empty for Tenant itself)."""
        return self.subtree_filter_at(self.path, prefix)

    @staticmethod
    def subtree_filter_at(path: str, prefix: str = "") -> Q:
        """The tenant at `path` and everything below it, as a filter on `prefix`."""
        return Q(**{f"{prefix}__path__startswith" if prefix else "path__startswith": path})

    @classmethod
    def subtrees_filter(cls, paths: Iterable[str], prefix: str = "") -> Q:
        """Any of the tenants at `paths` or below them; matches nothing when `paths` is empty."""
        terms = [cls.subtree_filter_at(path, prefix) for path in paths]
        return reduce(or_, terms) if terms else Q(pk__in=[])

    def is_within(self, other: Tenant) -> bool:
        """True when this tenant is `other` or lies below it."""
        return self.path.startswith(other.path)

    def ancestor_paths(self) -> list[str]:
        """The paths of this tenant and every tenant above it, root first."""
        return [self.ancestor_path(depth) for depth in range(1, self.depth + 1)]

    @classmethod
    def ancestor_paths_of(cls, path: str) -> list[str]:
        """`ancestor_paths()` for a path at hand (no Tenant loaded): `path` and every path above
        it, root first."""
        return [path[: depth * cls.steplen] for depth in range(1, cls.depth_of(path) + 1)]

    def ancestor_path(self, depth: int) -> str:
        """The path of the tenant at `depth` on the way from the root to this one (this tenant's
        own path when it is not that deep)."""
        return self.path[: depth * self.steplen]

    @property
    def parent_path(self) -> str:
        """The path of the tenant directly above (empty for the root)."""
        return self.path[: -self.steplen]

    @property
    def root_path(self) -> str:
        """The path of the federation (the root) this tenant belongs to."""
        return self.ancestor_path(1)

    @property
    def province_path(self) -> str:
        """The path of the province this tenant lies in (or is); the root's own path for the
        root."""
        return self.ancestor_path(PROVINCE_DEPTH)

    @classmethod
    def depth_of(cls, path: str) -> int:
        """The depth of the tenant at `path`: 1 for the root, 2 for a province."""
        return len(path) // cls.steplen

    def child_kind_allowed(self, kind: str) -> bool:
        return kind != TenantKind.NATIONAL and KIND_RANK[TenantKind(kind)] >= KIND_RANK[
            TenantKind(self.kind)
        ]


class User(AbstractUser):
    """A login. One user may hold roles in several environments (SPEC T6)."""

    email = models.EmailField(_("e-mail address"))
    tenant = models.ForeignKey(
        Tenant,
        verbose_name=_("home environment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text=_("The environment whose system administrators manage this user."),
    )
    must_change_password = models.BooleanField(
        _("must change password at next login"), default=False
    )

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        permissions = [
            ("unblock_user", _("Can unblock users")),
            # The ledenmodule is for department administrators only (SPEC L1); looking along
            # with one of them is a national power (SPEC T7).
            ("use_ledenmodule", _("Can work in the ledenmodule")),
            ("look_along", _("Can look along with a department administrator")),
        ]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    @property
    def access_tenant(self) -> Tenant | None:
        return self.tenant


class Role(models.Model):
    """A named bundle of permissions, given for one kind of tenant."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=100)
    tenant_kind = models.CharField(_("for environments of kind"), max_length=20, choices=TenantKind.choices)
    permissions = models.ManyToManyField(Permission, verbose_name=_("permissions"), blank=True)
    is_builtin = models.BooleanField(_("built in"), default=False, editable=False)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        from .roles import BUILTIN_ROLE_LABELS

        return str(BUILTIN_ROLE_LABELS.get(self.code, self.name))


class RoleAssignment(models.Model):
    """A role given to a user on a tenant and everything below it, from start to end date.

    Both dates are inclusive: an assignment ending today still grants today.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    tenant = models.ForeignKey(
        Tenant, verbose_name=_("environment"), on_delete=models.PROTECT,
        related_name="role_assignments",
    )
    role = models.ForeignKey(Role, verbose_name=_("role"), on_delete=models.PROTECT, related_name="assignments")
    start_date = models.DateField(_("start date"), default=datetime.date.today)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )

    history = HistoricalRecords()
    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["start_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="role_assignment_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["user", "start_date", "end_date"])]

    def __str__(self) -> str:
        return f"{self.role} @ {self.tenant}"

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant

    def is_active_on(self, day: datetime.date) -> bool:
        return is_held_on(self.start_date, self.end_date, day)


class AuditEvent(models.Model):
    """Something an administrator did that must be traceable: who really acted, and on whose
    behalf when looking along."""

    class Action(models.TextChoices):
        ENVIRONMENT_ENTERED = "environment_entered", _("Entered an environment below their own")
        USER_CREATED = "user_created", _("Created a user")
        USER_BLOCKED = "user_blocked", _("Blocked a user")
        USER_UNBLOCKED = "user_unblocked", _("Unblocked a user")
        INVITATION_SENT = "invitation_sent", _("Sent a set-password link")
        TEMPORARY_PASSWORD_SET = "temporary_password_set", _("Set a temporary password")
        ROLE_GIVEN = "role_given", _("Gave a role")
        ROLE_ENDED = "role_ended", _("Took away a role")
        TENANT_CHANGED = "tenant_changed", _("Changed environment details")
        LOOK_ALONG_STARTED = "look_along_started", _("Started looking along with a department administrator")
        LOOK_ALONG_STOPPED = "look_along_stopped", _("Stopped looking along with a department administrator")
        PERSONAL_DATA_EXPORTED = "personal_data_exported", _("Exported everything about a person (GDPR)")
        RELATION_ANONYMISED = "relation_anonymised", _("Anonymised a person on request (GDPR)")
        TWO_FACTOR_RESET = "two_factor_reset", _("Reset a user's two-factor login")
        TWO_FACTOR_POLICY_CHANGED = "two_factor_policy_changed", _("Changed which roles need two-factor login")

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.SET_NULL, null=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    tenant = models.ForeignKey(
        Tenant, verbose_name=_("environment"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user concerned"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="audit_events",
    )
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()}"


# --- Two-factor login (SPEC T9) and the sessions of a login ----------------------------------------
# The TOTP app itself is django-otp's TOTPDevice; the services are in tenants/two_factor.py and
# tenants/sessions.py.


class TwoFactorPolicy(models.Model):
    """The national choice of roles whose holders must log in with a second factor. One row at
    most; without it the default of tenants.two_factor.DEFAULT_REQUIRED_ROLES holds."""

    required_roles = models.ManyToManyField(
        Role, verbose_name=_("roles that need two-factor login"), blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )

    class Meta:
        verbose_name = _("two-factor policy")
        verbose_name_plural = _("two-factor policies")
        permissions = [("reset_two_factor", _("Can reset a user's two-factor login"))]

    def __str__(self) -> str:
        return str(_("two-factor policy"))


class RecoveryCodeDevice(Device):
    """A user's ten one-time recovery codes, as a django-otp device so that logging in with one
    marks the session as verified like the app does. The codes are stored hashed."""

    class Meta:
        verbose_name = _("recovery codes")
        verbose_name_plural = _("recovery codes")

    def verify_token(self, token) -> bool:
        typed = "".join(str(token).split()).replace("-", "").upper()
        for code in self.codes.filter(used_at__isnull=True):
            if check_password(typed, code.code_hash):
                # Only the request that marks the code used may log in with it.
                used = RecoveryCode.objects.filter(pk=code.pk, used_at__isnull=True).update(used_at=timezone.now())
                return used == 1
        return False


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=128)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")

    def __str__(self) -> str:
        return f"{self.device} #{self.pk}"


class LoginSession(models.Model):
    """The session a login started, so that a password change or a second-factor reset can end a
    user's other sessions whatever the session store is (database or Redis)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("login session")
        verbose_name_plural = _("login sessions")

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"
