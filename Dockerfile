# Ledenbeheer — production image: gunicorn serving the Django project; the same image runs the
# Celery worker and beat (see docker-compose.yml). Configuration comes from environment
# variables only (docs/configuration.md).

# --- Build stage: front-end packages (npm ci, as pinned) and compiled translations ------------
FROM debian:bookworm-slim AS assets
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm ca-certificates gettext \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY locale/ locale/
RUN find locale -name '*.po' -exec sh -c 'msgfmt --check-format -o "${1%.po}.mo" "$1"' _ {} \;

# --- The application --------------------------------------------------------------------------
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint's libraries (Pango, HarfBuzz) and a font for the PDFs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 app
WORKDIR /app

# Dependencies first, so a code change does not reinstall them. `pip install .` installs only the
# pinned dependencies (pyproject.toml: py-modules = []); the code runs from /app.
COPY pyproject.toml ./
RUN pip install .

COPY --from=assets /build/node_modules ./node_modules
COPY . .
COPY --from=assets /build/locale ./locale

# Collected, compressed and fingerprinted static files, served by whitenoise. DEBUG is off here,
# as in production; the build needs no secrets (collectstatic does not use SECRET_KEY).
RUN python manage.py collectstatic --noinput \
 && mkdir -p /data/media \
 && chown app:app /data/media

ENV MEDIA_ROOT=/data/media
USER app
EXPOSE 8000

# Workers: gunicorn reads WEB_CONCURRENCY (default 1); set it to about 2 x CPU cores + 1.
CMD ["gunicorn", "ledenbeheer.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
