from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from ledenbeheer.health import health

urlpatterns = [
    path("", include("dashboard.urls")),
    path("", include("tenants.urls")),
    path("", include("relations.urls")),
    path("ledenmodule/", include("ledenmodule.urls")),
    path("portal/", include("portal.urls")),
    path("", include("memberships.urls")),
    path("", include("intake.urls")),
    path("", include("notifications.urls")),
    path("", include("wizards.urls")),
    path("billing/", include("billing.urls")),
    path("", include("imports.urls")),
    path("quality/", include("quality.urls")),
    path("api/", include("api.urls")),
    path("language/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    # Database, cache, broker and file storage: 200 when all answer, 503 naming what is missing.
    path("health/", health, name="health"),
]

# Too large a body or too many fields: a page that says so (Django's own says only "Bad Request").
handler400 = "ledenbeheer.errors.bad_request"
