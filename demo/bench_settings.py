"""Settings for `bench_load`: the production settings (DEBUG off, persistent database
connections as the environment says) served over plain HTTP on 127.0.0.1, with static files
served without collectstatic's manifest, and one trivial view to measure beside the app."""

from ledenbeheer.settings import *  # noqa: F403
from ledenbeheer.settings import STORAGES

ROOT_URLCONF = "demo.bench_urls"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
