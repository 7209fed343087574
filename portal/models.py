"""The member portal's own data: the one-time login links members receive by e-mail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LoginLink(models.Model):
    """A one-time login link for a member's login. The link itself is signed (portal.links);
    only a hash of its random part is stored, so a copy of the database logs nobody in. Used
    once: `used_at` is set in one conditional update."""

    class Purpose(models.TextChoices):
        REQUESTED = "requested", _("Asked for by the member")
        INVITATION = "invitation", _("Invitation by an administrator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_login_links"
    )
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.REQUESTED
    )
    nonce_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("valid until"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("login link")
        verbose_name_plural = _("login links")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"
