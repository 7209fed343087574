"""Django settings for Ledenbeheer, read from environment variables.

Every variable is documented in docs/configuration.md. The helpers below fail loudly on a value
they cannot read, so a typo in a deployment stops the process instead of silently using a default.
"""

import ipaddress
import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from ledenbeheer.storage import storages_setting

BASE_DIR = Path(__file__).resolve().parent.parent

# pytest imports settings before any test code runs; some defaults differ for the suite (no
# HTTPS redirect, no manifest of collected static files).
TESTING = "pytest" in sys.modules


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def envbool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def envint(name: str, default: int) -> int:
    value = env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envlist(name: str, default: list[str]) -> list[str]:
    value = env(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)

# Without SECRET_KEY, management commands and the test suite still run with a development key;
# wsgi.py refuses to serve with it when DEBUG is off, and `check --deploy` flags it.
INSECURE_SECRET_KEY = "django-insecure-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env("SECRET_KEY", INSECURE_SECRET_KEY)

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

# The absolute address of this site, for links in e-mails sent outside a request.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# A non-empty name other than "production" shows a coloured banner on every page (SPEC X4).
ENVIRONMENT_NAME = env("ENVIRONMENT_NAME", "") or ""

INSTALLED_APPS = [
    # Django's admin behind our own login and second factor (tenants.two_factor.TwoFactorAdminSite).
    "ledenbeheer.apps.TwoFactorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_htmx",
    "django_filters",
    "treebeard",
    "guardian",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    # django-ninja serves the API documentation's Swagger UI from its own static files (no CDN).
    "ninja",
    "tenants",
    "relations",
    "memberships",
    "notifications",
    "quality",
    "wizards",
    "billing",
    "imports",
    "dashboard",
    "intake",
    "ledenmodule",
    "portal",
    "api",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy from SECURE_CSP (below): scripts only from our own static files.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tenants.middleware.PreferredLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle timeout and absolute lifetime of a login; no-store and Permissions-Policy headers.
    "tenants.sessions.SessionLifetimeMiddleware",
    "tenants.sessions.PrivateResponseMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "tenants.middleware.PasswordChangeRequiredMiddleware",
    "tenants.middleware.CurrentTenantMiddleware",
    # A member's login (the portal) meets nothing of the administrators' screens: 404.
    "portal.middleware.MemberLoginMiddleware",
    # A NUL byte in the address or a GET parameter: a 400 page for every view (ledenbeheer/errors.py).
    "ledenbeheer.errors.RejectNulBytesMiddleware",
    # Redis, the object store or the database missing during a request: a 503 page naming it.
    "ledenbeheer.health.ServiceUnavailableMiddleware",
    # django-axes wants to be last: it turns a lock-out into our lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ledenbeheer.urls"
# Our templates for form fields and widgets (Bootstrap classes, errors at the field).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "ledenbeheer.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.environment",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0),
    )
}
# Optional read replica of the primary (PostgreSQL streaming replication): the wizards' runs and
# exports read from it (ledenbeheer/dbrouter.py, docs/scaling.md). Tests use the primary for it.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0)
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["ledenbeheer.dbrouter.ReplicaRouter"]
# No JIT compilation on PostgreSQL: the app's queries are short, and for the long ones (exports,
# imports, checks) PostgreSQL spent seconds compiling what runs in less (a 100,000-row export:
# 6.5 s of JIT in a 13.8 s query; docs/benchmarks.md). DATABASE_JIT=1 leaves the server's setting.
# A server-side cursor (`queryset.iterator()`: exports, downloads, imports, checks) is always read
# to its end here, so PostgreSQL plans it for all its rows, not for the first tenth as it would
# (cursor_tuple_fraction 0.1 chose a plan that took a 71,000-row export 3.3 s instead of 0.8 s).
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _options = ["-c cursor_tuple_fraction=1"]
        if not envbool("DATABASE_JIT", False):
            _options.insert(0, "-c jit=off")
        _database.setdefault("OPTIONS", {})["options"] = " ".join(_options)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the demo server read while a seed or a task writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out pair never reaches the password check.
    "axes.backends.AxesStandaloneBackend",
    # Log in with username or e-mail; answers has_perm(perm, obj) through the tenant chain.
    "tenants.backends.TenantRoleBackend",
    # Explicit per-object grants (e.g. a wizard shared with a named user).
    "tenants.backends.ObjectGrantBackend",
]
# No anonymous user row: nothing is ever granted to visitors who are not logged in.
ANONYMOUS_USER_NAME = None
SILENCED_SYSTEM_CHECKS = [
    # guardian looks for its own backend by name; ours is a subclass (tenants.backends).
    "guardian.W001",
    # Covering indexes (INCLUDE) are a PostgreSQL speed-up; SQLite (the demo) builds the same index
    # on its key columns only, which is all it needs at demo size.
    "models.W040",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {
        "NAME": "tenants.passwords.MaximumLengthValidator",
        "OPTIONS": {"max_length": 128},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = envint("PASSWORD_RESET_TIMEOUT_HOURS", 72) * 3600
# The member portal (docs/portal.md): a one-time login link is valid this many minutes; a
# request for one is throttled per visitor address and per e-mail address typed.
PORTAL_LOGIN_LINK_MINUTES = envint("PORTAL_LOGIN_LINK_MINUTES", 30)
PORTAL_LINK_RATE_LIMIT = envint("PORTAL_LINK_RATE_LIMIT", 5)
PORTAL_LINK_RATE_WINDOW = envint("PORTAL_LINK_RATE_WINDOW", 3600)

# django-axes: lock a (username, IP address) pair after 5 failures; the lock ends by itself after
# the cool-off, or earlier when a system administrator above the user unblocks them.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "tenants.backends.axes_username"
AXES_LOCKOUT_CALLABLE = "tenants.views.accounts.locked_out"
AXES_VERBOSE = False

# Wrong second-factor codes count as failed logins too (tenants/views/accounts.py). Behind a proxy
# the address is the visitor's, read as tenants/proxies.py explains (TRUSTED_PROXIES below).
AXES_CLIENT_IP_CALLABLE = "tenants.proxies.client_address"

# --- Security: sessions, two-factor login, proxies, shared counters, headers (docs/security.md) ---

SESSION_ENGINE = "tenants.session_store"  # Django's database sessions, read faster (tenants/session_store.py)
# A login ends after this long without a request, and this long after it began whatever happens.
SESSION_IDLE_TIMEOUT = timedelta(minutes=envint("SESSION_IDLE_TIMEOUT_MINUTES", 30))
SESSION_ABSOLUTE_LIFETIME = timedelta(hours=envint("SESSION_ABSOLUTE_LIFETIME_HOURS", 12))
# The cookie and the stored session never outlive the absolute lifetime either.
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_LIFETIME.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Two-factor login (SPEC T9): the name authenticator apps show for the account.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Ledenbeheer")
# Between the password and the code: how long the first step stays valid.
TWO_FACTOR_PENDING_SECONDS = envint("TWO_FACTOR_PENDING_SECONDS", 300)

# Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For is believed. Empty:
# the direct peer is the visitor, and X-Forwarded-For is ignored.
TRUSTED_PROXIES = envlist("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an address or network") from None

# Counters (intake rate limit, password-reset throttle) live in Django's cache. With more than one
# web process it must be shared: CACHE_URL=redis://host:6379/1. Without it (the demo) each process
# keeps its own in memory.
CACHE_URL = env("CACHE_URL")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            # Redis down: a clear error within seconds (the health page names it), not a hang.
            "OPTIONS": {"socket_connect_timeout": 3, "socket_timeout": 5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rendered template fragments that depend only on their key (the menus of the navigation, keyed
# by the user's menu entries, environment and language): kept per process, never shared.
CACHES["fragments"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fragments"}

# Forgot password: at most this many requests per visitor address and per e-mail address a window.
PASSWORD_RESET_RATE_LIMIT = envint("PASSWORD_RESET_RATE_LIMIT", 5)
PASSWORD_RESET_RATE_WINDOW = envint("PASSWORD_RESET_RATE_WINDOW", 3600)

# Content-Security-Policy: scripts and styles only from our own static files (no inline script,
# no eval); inline style attributes are allowed. data: images are Bootstrap's icons in its CSS.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
# Browser features the site never uses, switched off for it and anything it might embed.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)

LANGUAGE_CODE = "nl"
# Our own short date format (d-m-Y) for the templates: ledenbeheer/formats/<language>/formats.py.
FORMAT_MODULE_PATH = ["ledenbeheer.formats"]
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end packages pinned in package-lock.json, installed with `npm ci`.
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
    ("vendor/axe-core", NODE_MODULES / "axe-core"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
# Files (uploads, generated documents, background downloads) on local disk under MEDIA_ROOT, or,
# with STORAGE_URL=s3://KEY:SECRET@host/bucket, in S3-compatible object storage shared by every
# web and worker machine (ledenbeheer/storage.py). Never served directly: the app's views check
# who may see a file and stream it.
STORAGE_URL = env("STORAGE_URL")
# Selection wizards: background downloads on local disk go to WIZARD_EXPORT_ROOT (default
# MEDIA_ROOT/exports; never serve that directory directly); with STORAGE_URL to exports/ in the bucket.
WIZARD_EXPORT_ROOT = env("WIZARD_EXPORT_ROOT")
STORAGES = storages_setting(
    STORAGE_URL,
    export_root=WIZARD_EXPORT_ROOT,
    staticfiles_backend=(
        "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    ),
)

LOGO_MAX_BYTES = envint("LOGO_MAX_BYTES", 1024 * 1024)

# Public intake forms: at most this many submissions per visitor address per window (seconds),
# counted in Django's cache (use a shared cache such as Redis with several web processes).
INTAKE_RATE_LIMIT = envint("INTAKE_RATE_LIMIT", 5)
INTAKE_RATE_WINDOW = envint("INTAKE_RATE_WINDOW", 3600)

# The HTTP API (docs/api.md): requests per token per window (seconds), counted in Django's cache
# (CACHE_URL: shared between web processes); the largest page a list answers; the longest a token
# may be valid.
API_RATE_LIMIT = envint("API_RATE_LIMIT", 600)
API_RATE_WINDOW = envint("API_RATE_WINDOW", 60)
API_PAGE_SIZE_MAX = envint("API_PAGE_SIZE_MAX", 100)
API_TOKEN_MAX_DAYS = envint("API_TOKEN_MAX_DAYS", 730)
API_TOKEN_USE_DAYS = envint("API_TOKEN_USE_DAYS", 365)

# Completing an address from postcode + house number; "ledenbeheer.addresses.NoLookup" turns it off.
ADDRESS_LOOKUP = env("ADDRESS_LOOKUP", "ledenbeheer.addresses.PdokLookup")

EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Ledenbeheer <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: without a broker every task runs in-process at once, so the demo needs no Redis.
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# The queue tasks are sent to, also the follow-up tasks a worker sends (the reaper's, a step's
# next step); the tests give each worker a queue of its own.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Redis hands a task out again when its worker has not acknowledged it within this time. Work
# is recovered by leases and the reaper within minutes; this is only the backstop for a message
# taken by a worker that died before it took a lease. It must stay above the longest step of any
# task and the longest retry countdown (10 minutes): 30 minutes (docs/jobs.md).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 30 * 60)}
# Leases on running work (tenants/leases.py): renewed every third of JOB_LEASE_SECONDS while the
# worker lives; the reaper (every JOB_REAPER_SECONDS) queues again work whose lease ran out, and
# work still waiting in the queue after JOB_REQUEUE_QUEUED_AFTER seconds (a lost message).
JOB_LEASE_SECONDS = envint("JOB_LEASE_SECONDS", 120)
JOB_REAPER_SECONDS = envint("JOB_REAPER_SECONDS", 60)
JOB_REQUEUE_QUEUED_AFTER = envint("JOB_REQUEUE_QUEUED_AFTER", 15 * 60)
# The nightly and yearly jobs (docs/jobs.md), in CELERY_TIMEZONE. Exactly one beat process sends
# them; each job's run record makes a second delivery harmless, and the hourly catch-up (also sent
# when beat starts) runs a job whose time passed while the installation was down.
CELERY_BEAT_SCHEDULE: dict = {
    "quality-checks": {
        "task": "quality.tasks.run_job", "args": ("quality_checks",),
        "schedule": crontab(minute=0, hour=5),
    },
    "error-digest": {
        "task": "quality.tasks.run_job", "args": ("error_digest",),
        "schedule": crontab(minute=0, hour=6),
    },
    "administrators-list": {
        "task": "quality.tasks.run_job", "args": ("administrators_list",),
        "schedule": crontab(minute=0, hour=7, day_of_month=2, month_of_year=1),
    },
    "aspirants-list": {
        "task": "quality.tasks.run_job", "args": ("aspirants_list",),
        "schedule": crontab(minute=0, hour=7, day_of_month=1, month_of_year=12),
    },
    # GDPR retention: does nothing until the federation sets a period (quality/retention.py).
    "retention": {
        "task": "quality.tasks.run_job", "args": ("retention",),
        "schedule": crontab(minute=0, hour=4),
    },
    "wizards-remove-expired-exports": {
        "task": "wizards.export_files_remove_expired",
        "schedule": 3600.0,
    },
    "imports-duplicate-scan": {
        "task": "imports.duplicate_scan_nightly",
        "schedule": crontab(minute=0, hour=3),
    },
    "billing-reminders": {
        "task": "billing.send_reminders",
        "schedule": crontab(minute=0, hour=8),
    },
    "reap-expired-leases": {
        "task": "tenants.reap_expired_leases",
        "schedule": float(JOB_REAPER_SECONDS),
    },
    # The dashboard's membership counts: rebuilt from the raw rows, checked against the counts the
    # services kept up to date during the day (dashboard/counts.py).
    "membership-counts": {
        "task": "quality.tasks.run_job", "args": ("membership_counts",),
        "schedule": crontab(minute=15, hour=0),
    },
    # The API's audit of token uses, kept API_TOKEN_USE_DAYS days (api/services.py).
    "api-token-uses": {
        "task": "quality.tasks.run_job", "args": ("api_token_uses",),
        "schedule": crontab(minute=45, hour=3),
    },
    "catch-up": {
        "task": "quality.tasks.catch_up",
        "schedule": crontab(minute=30),
    },
}

# Dashboard: the month in which a season starts (1 = the calendar year, 9 = 1 September – 31
# August); the membership flow compares members on the first day of each season.
DASHBOARD_SEASON_START_MONTH = envint("DASHBOARD_SEASON_START_MONTH", 1)
if not 1 <= DASHBOARD_SEASON_START_MONTH <= 12:
    raise ImproperlyConfigured("DASHBOARD_SEASON_START_MONTH must be a month number, 1 to 12.")

# Selection wizards: a download of more rows than this runs in the background (Celery); its file
# is kept this many hours for the person who asked for it, in the "exports" storage (above).
WIZARD_EXPORT_SYNC_ROWS = envint("WIZARD_EXPORT_SYNC_ROWS", 3000)
WIZARD_EXPORT_EXPIRY_HOURS = envint("WIZARD_EXPORT_EXPIRY_HOURS", 24)

# HTTPS hardening is on whenever DEBUG is off (`manage.py check --deploy` stays silent).
_SECURE_DEFAULT = not DEBUG and not TESTING
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", _SECURE_DEFAULT)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if _SECURE_DEFAULT else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _SECURE_DEFAULT)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", _SECURE_DEFAULT)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", _SECURE_DEFAULT)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", _SECURE_DEFAULT)
if envbool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health checks of load balancers and docker-compose ask over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # WeasyPrint reports every rendering step at INFO.
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        # Django's own default gives "django" a console handler under DEBUG; its records also
        # reach the root handler, so every line showed twice. Only the root handler prints them.
        "django": {"handlers": [], "level": "INFO"},
    },
}
