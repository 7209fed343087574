"""WSGI entry point (gunicorn ledenbeheer.wsgi)."""

import gc
import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledenbeheer.settings")

application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (settings are ready only after the line above)

if not settings.DEBUG and settings.SECRET_KEY == settings.INSECURE_SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY before serving with DEBUG off")

# Which services answer (database, Redis, object store) is logged once, in the background; the
# process serves either way and /health/ names what is missing.
from ledenbeheer.health import log_checks_at_start  # noqa: E402

log_checks_at_start()

# What the start-up made (modules, settings, URL patterns: about 180,000 objects) is kept out of
# the garbage collector's full passes: with it, a full pass took about 80 ms, and came once every
# few hundred requests (docs/benchmarks.md, stop 14).
gc.collect()
gc.freeze()
