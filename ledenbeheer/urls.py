from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from memberships.urls_ledenmodule import settings_urlpatterns as notice_rule_urls

urlpatterns = [
    path("", include("tenants.urls")),
    path("", include("relations.urls")),
    path("ledenmodule/", include("memberships.urls_ledenmodule")),
    path("", include(notice_rule_urls)),
    path("", include("memberships.urls_intake")),
    path("", include("notifications.urls")),
    path("", include("wizards.urls")),
    path("billing/", include("billing.urls")),
    path("quality/", include("notifications.quality_urls")),
    path("language/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
]
