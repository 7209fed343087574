"""Use cases of environments, users and roles. Every write with a rule goes through here."""

from __future__ import annotations

import datetime

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Permission
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .access import forget_grants, is_looking_along
from .events import audit_record
from .models import AuditEvent, Role, RoleAssignment, Tenant, TenantKind, User
from .periods import has_ended, overlapping_q
from .roles import BUILTIN_ROLES

# --- roles -------------------------------------------------------------------------------------


def roles_sync() -> list[Role]:
    """Create or update the built-in roles so they carry exactly the permissions of roles.py."""
    roles = []
    with transaction.atomic():
        for definition in BUILTIN_ROLES:
            permissions = []
            for dotted in definition.permissions:
                app_label, codename = dotted.split(".", 1)
                try:
                    permissions.append(
                        Permission.objects.get(content_type__app_label=app_label, codename=codename)
                    )
                except Permission.DoesNotExist:
                    raise ImproperlyConfigured(
                        f"Role {definition.code} names unknown permission {dotted}"
                    ) from None
            role, _created = Role.objects.update_or_create(
                code=definition.code,
                defaults={
                    "name": str(definition.label),
                    "tenant_kind": definition.tenant_kind,
                    "is_builtin": True,
                },
            )
            role.permissions.set(permissions)
            roles.append(role)
    return roles


def roles_sync_after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    if app_config is None or app_config.label != "tenants":
        return
    # Permissions of apps later in INSTALLED_APPS are created after this signal; make sure they
    # all exist before the roles point at them.
    from django.apps import apps

    for config in apps.get_app_configs():
        create_permissions(config, verbosity=0, using=using)
    roles_sync()


# --- environments ------------------------------------------------------------------------------


def tenant_create(*, parent: Tenant | None, kind: str, name: str, **details) -> Tenant:
    """Add an environment to the tree: the federation at the top, anything of the same or a
    lower kind below."""
    if parent is None:
        if kind != TenantKind.NATIONAL:
            raise ValidationError({"kind": _("Only a national federation stands at the top.")})
        return Tenant.objects.add_root({"kind": kind, "name": name, **details})
    if not parent.child_kind_allowed(kind):
        raise ValidationError(
            {"kind": _("A %(kind)s cannot be placed below a %(parent)s.")
             % {"kind": TenantKind(kind).label, "parent": TenantKind(parent.kind).label}}
        )
    # treebeard needs the parent's current child count.
    parent = Tenant.objects.get(pk=parent.pk)
    return Tenant.objects.add_child(parent, {"kind": kind, "name": name, **details})


@transaction.atomic
def tenant_update(*, actor: User, tenant: Tenant, changed: list[str]) -> Tenant:
    """Save edited environment details (validated by the form) and record who changed what."""
    tenant.save()
    audit_record(actor=actor, action=AuditEvent.Action.TENANT_CHANGED, tenant=tenant, detail=", ".join(changed))
    return tenant


def environment_enter(*, user: User, tenant: Tenant) -> None:
    """Record that a user stepped into an environment below their own ("meekijken")."""
    if is_looking_along(user, tenant):
        audit_record(
            actor=user, action=AuditEvent.Action.ENVIRONMENT_ENTERED, tenant=tenant,
            detail=tenant.name,
        )


def look_along_started(*, actor: User, target: User, department: Tenant) -> None:
    """Record that `actor` starts working in `target`'s ledenmodule (SPEC T7, GDPR X3)."""
    audit_record(
        actor=actor, action=AuditEvent.Action.LOOK_ALONG_STARTED, tenant=department, target_user=target,
        detail=department.name,
    )


def look_along_stopped(*, actor: User, target: User | None, department: Tenant | None) -> None:
    """Record the end of looking along: by the button, or because the power or the other
    person's function ended (`target` is None when that login is gone)."""
    audit_record(
        actor=actor, action=AuditEvent.Action.LOOK_ALONG_STOPPED, tenant=department, target_user=target,
        detail=department.name if department else "",
    )


# --- users -------------------------------------------------------------------------------------


def username_suggestion(*, first_name: str, last_name: str) -> str:
    """The federation's convention (SPEC T3): first initial and surname, in capitals."""
    initial = first_name.strip()[:1]
    surname = "".join(ch for ch in last_name if ch.isalnum())
    return f"{initial}{surname}".upper()


def username_free(*, base: str) -> str:
    """`base`, or `base2`, `base3`…: the first that no login has yet (usernames ignore case)."""
    username, n = base, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}{n}"
    return username


@transaction.atomic
def user_create(
    *,
    actor: User,
    tenant: Tenant,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: Role | None = None,
    start_date: datetime.date | None = None,
    send_link: bool = True,
) -> User:
    """Create a user without any password and (unless `send_link` is false, when the caller
    invites them itself) send them a one-time link to choose one."""
    user = User(
        username=username or username_suggestion(first_name=first_name, last_name=last_name),
        email=email.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        tenant=tenant,
    )
    user.set_unusable_password()
    # Checked before full_clean, whose constraint check would report it without naming the field.
    _check_email_free(email=user.email, user=None)
    user.full_clean()
    user.save()
    audit_record(actor=actor, action=AuditEvent.Action.USER_CREATED, tenant=tenant, target_user=user)
    if role is not None:
        role_assignment_create(
            actor=actor, user=user, tenant=tenant, role=role,
            start_date=start_date or datetime.date.today(),
        )
    if send_link:
        user_send_set_password_link(actor=actor, user=user)
    return user


@transaction.atomic
def service_login_create(*, actor: User, tenant: Tenant, username: str, name: str) -> User:
    """A login that no person uses: the one an API token acts as, so that history and audit name
    the token (SPEC L3). It has no password and no home environment (no user list shows it), and
    an address under the reserved `.invalid` domain, which no mail ever reaches. Its powers come
    from its token on each request (`access.grants_fix`), never from a role."""
    user = User(username=username, email=f"{username}@api.invalid", first_name=name[:150], last_name="(API)")
    user.set_unusable_password()
    user.full_clean()
    user.save()
    audit_record(actor=actor, action=AuditEvent.Action.USER_CREATED, tenant=tenant, target_user=user, detail=name)
    return user


def _check_email_free(*, email: str, user: User | None) -> None:
    others = User.objects.with_email(email)
    if user is not None:
        others = others.exclude(pk=user.pk)
    if others.exists():
        raise ValidationError({"email": _("Another user already has this e-mail address.")})


def user_email_change(*, user: User, email: str) -> User:
    """Give a login another e-mail address (it logs in with it), refusing one that another
    login already uses. The caller records who changed it (the card's history does)."""
    email = email.strip()
    if user.email.lower() == email.lower():
        return user
    _check_email_free(email=email, user=user)
    try:
        user.email = User._meta.get_field("email").clean(email, user)
    except ValidationError as error:
        raise ValidationError({"email": error.messages}) from None
    user.save(update_fields=["email"])
    return user


def set_password_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return f"{settings.SITE_URL}{path}"


def user_send_set_password_link(*, actor: User | None, user: User) -> None:
    """Mail the user a one-time link to set their password, once the transaction commits."""
    # tasks.py runs set_password_mail_send below: imported at the top, the two would import
    # each other (the pattern of every app's services and tasks).
    from .tasks import send_set_password_link

    if actor is not None:
        audit_record(
            actor=actor, action=AuditEvent.Action.INVITATION_SENT, tenant=user.tenant,
            target_user=user,
        )
    transaction.on_commit(lambda: send_set_password_link.delay(user.pk))


def set_password_mail(*, user: User, url: str) -> tuple[str, str]:
    """The subject and body of the set-password mail with `url` as its link. Callers that keep a
    copy (the card's communication log) pass a placeholder: the link is personal."""
    context = {
        "user": user,
        "url": url,
        "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        "site_url": settings.SITE_URL,
    }
    subject = render_to_string("tenants/email/set_password_subject.txt", context).strip()
    body = render_to_string("tenants/email/set_password.txt", context)
    return subject, body


def set_password_mail_send(*, user: User) -> None:
    """Render and send the set-password mail (run by the task, outside any request)."""
    subject, body = set_password_mail(user=user, url=set_password_url(user))
    EmailMultiAlternatives(subject, body, to=[user.email]).send()


def user_block(*, actor: User, user: User) -> None:
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot block yourself."))
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(actor=actor, action=AuditEvent.Action.USER_BLOCKED, tenant=user.tenant, target_user=user)


def user_unblock(*, actor: User, user: User) -> None:
    """Lift both kinds of block: the administrator's and django-axes' lock-out after failures."""
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit_record(
            actor=actor, action=AuditEvent.Action.USER_UNBLOCKED, tenant=user.tenant,
            target_user=user,
        )
    axes_reset(username=user.username.lower())


def user_is_locked_out(user: User) -> bool:
    return bool(locked_out_usernames([user.username]))


def locked_out_usernames(usernames: list[str]) -> set[str]:
    """Which of these usernames django-axes currently locks out (one query)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    lowered = [name.lower() for name in usernames]
    return set(
        AccessAttempt.objects.filter(
            Q(username__in=lowered),
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=since,
        ).values_list("username", flat=True)
    )


def user_set_temporary_password(*, actor: User, user: User, password: str) -> None:
    """An administrator sets a password the user must replace at their next login."""
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    audit_record(
        actor=actor, action=AuditEvent.Action.TEMPORARY_PASSWORD_SET, tenant=user.tenant,
        target_user=user,
    )


def user_password_changed(*, user: User) -> None:
    if user.must_change_password:
        user.must_change_password = False
        user.save(update_fields=["must_change_password"])


# --- role assignments --------------------------------------------------------------------------


@transaction.atomic
def role_assignment_create(
    *,
    actor: User | None,
    user: User,
    tenant: Tenant,
    role: Role,
    start_date: datetime.date,
    end_date: datetime.date | None = None,
) -> RoleAssignment:
    if role.tenant_kind != tenant.kind:
        raise ValidationError(
            {
                "role": _(
                    "The role “%(role)s” is for environments of kind “%(kind)s”; "
                    "“%(tenant)s” is of kind “%(tenant_kind)s”."
                )
                % {
                    "role": role.label,
                    "kind": TenantKind(role.tenant_kind).label,
                    "tenant": tenant.name,
                    "tenant_kind": TenantKind(tenant.kind).label,
                }
            }
        )
    assignment = RoleAssignment(
        user=user, tenant=tenant, role=role, start_date=start_date, end_date=end_date,
        created_by=actor,
    )
    assignment.full_clean()
    overlapping = RoleAssignment.objects.filter(user=user, tenant=tenant, role=role).filter(
        overlapping_q(start_date, end_date)
    )
    if overlapping.exists():
        raise ValidationError(
            {"role": _("This user already has this role in this environment for these dates.")}
        )
    assignment.save()
    audit_record(
        actor=actor, action=AuditEvent.Action.ROLE_GIVEN, tenant=tenant, target_user=user,
        detail=role.label,
    )
    forget_grants(user)
    return assignment


@transaction.atomic
def role_assignment_end(
    *, actor: User, assignment: RoleAssignment, end_date: datetime.date | None = None
) -> None:
    """Take away exactly this one role.

    Without `end_date` it stops granting anything from today: an assignment that already granted
    something keeps its history with today as end date (the first day it no longer holds,
    `tenants.periods`); one that never started is removed. With `end_date` (e.g. the end of the
    function that gave it) it grants until that day, and never ends before it starts.
    """
    if end_date is not None:
        assignment.end_date = max(end_date, assignment.start_date)
        assignment.save(update_fields=["end_date"])
    else:
        today = datetime.date.today()
        if assignment.start_date >= today:
            assignment.delete()
        elif not has_ended(assignment.end_date, today):
            assignment.end_date = today
            assignment.save(update_fields=["end_date"])
    audit_record(
        actor=actor, action=AuditEvent.Action.ROLE_ENDED, tenant=assignment.tenant,
        target_user=assignment.user, detail=assignment.role.label,
    )
    forget_grants(assignment.user)


@transaction.atomic
def role_assignment_dates_change(
    *, actor: User, assignment: RoleAssignment, start_date: datetime.date, end_date: datetime.date | None
) -> None:
    """Correct the dates of an assignment (its function's dates were corrected): same checks as
    giving it, audited as giving the role for the new dates."""
    assignment.start_date, assignment.end_date = start_date, end_date
    assignment.full_clean()
    overlapping = (
        RoleAssignment.objects.filter(user=assignment.user, tenant=assignment.tenant, role=assignment.role)
        .filter(overlapping_q(start_date, end_date))
        .exclude(pk=assignment.pk)
    )
    if overlapping.exists():
        raise ValidationError(
            {"role": _("This user already has this role in this environment for these dates.")}
        )
    assignment.save(update_fields=["start_date", "end_date"])
    audit_record(
        actor=actor, action=AuditEvent.Action.ROLE_GIVEN, tenant=assignment.tenant,
        target_user=assignment.user, detail=assignment.role.label,
    )
    forget_grants(assignment.user)


@transaction.atomic
def role_assignment_delete(*, actor: User, assignment: RoleAssignment) -> None:
    """Remove an assignment as if it never was (its function was entered in error, or never
    began). Audited like taking a role away; its history rows stay."""
    user, tenant, label = assignment.user, assignment.tenant, assignment.role.label
    assignment.delete()
    audit_record(
        actor=actor, action=AuditEvent.Action.ROLE_ENDED, tenant=tenant, target_user=user,
        detail=label,
    )
    forget_grants(user)
