"""API tokens of an environment (SPEC L3) and the log of their uses."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import Tenant

from .querysets import ApiTokenQuerySet


class TokenScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Read and write")


class ApiToken(models.Model):
    """A key another system uses to reach one environment through the API. Only a hash of the
    secret is kept; the secret is shown once, when the token is made. The token acts as its own
    service login (`user`), so history and audit name it."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for, e.g. the department's own administration."))
    scope = models.CharField(_("scope"), max_length=10, choices=TokenScope.choices, default=TokenScope.READ)
    # The first characters of the secret, shown in lists so a token can be recognised.
    prefix = models.CharField(_("starts with"), max_length=20, unique=True, editable=False)
    # SHA-256 of the whole secret: the secret is 32 random bytes, so a fast hash is enough (a slow
    # password hash would cost every API request tens of milliseconds for no safety gained).
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_on = models.DateField(_("valid until"), help_text=_("The last day the token works."))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_token", editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True,
        related_name="+", editable=False,
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("revoked by"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+", editable=False,
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant

    def is_expired(self, day: datetime.date | None = None) -> bool:
        return self.expires_on < (day or timezone.localdate())

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired()


class TokenUseOutcome(models.TextChoices):
    OK = "ok", _("Answered")
    REVOKED = "revoked", _("Refused: revoked")
    EXPIRED = "expired", _("Refused: expired")
    RATE_LIMITED = "rate_limited", _("Refused: too many requests")


class ApiTokenUse(models.Model):
    """One request made with a token: when, what, from where and with which answer."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="uses")
    at = models.DateTimeField(_("when"), default=timezone.now)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("address"), max_length=300)
    status = models.PositiveSmallIntegerField(_("answer"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=TokenUseOutcome.choices, default=TokenUseOutcome.OK)
    client_address = models.GenericIPAddressField(_("from"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token use")
        verbose_name_plural = _("API token uses")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["token", "at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"
