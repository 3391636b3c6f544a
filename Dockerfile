# syntax=docker/dockerfile:1
# The production image: gunicorn serving the API on $PORT (8000) as an unprivileged user.
#   docker build -t social-api .
#   docker run --rm -p 8000:8000 -e SECRET_KEY=... -e DATABASE_URL=postgres://... social-api
# Apply migrations with the same image before serving: ... social-api python manage.py migrate

ARG PYTHON_IMAGE=python:3.13-slim-trixie

# Build stage: the runtime lock in a virtualenv, every package at its locked version and checked
# against its hashes (make lock). Every one of them ships as a wheel, so nothing is compiled;
# pip and its caches stay behind in this stage.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.lock

# Runtime stage: the slim Python image (no compilers), the virtualenv and the code.
FROM ${PYTHON_IMAGE} AS runtime
# STATIC_MANIFEST: the static files are collected below, and served from there (settings.py).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8000 \
    STATIC_MANIFEST=true
# The app's user, and the one directory it may write: the compose file keeps the signing key
# it makes on first start there, in a volume (deploy/secret_key.py).
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin app \
 && install -d -o app -g app -m 0700 /var/lib/social-api
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code and the collected static files belong to root: the app can read them, not change them.
COPY . .
# Hashed, compressed static files and their manifest (whitenoise's manifest storage, which
# STATIC_MANIFEST selects). Settings need a key and a database to load; neither is used.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    DATABASE_URL=postgres://collectstatic@localhost/unused \
      python manage.py collectstatic --noinput \
 && python -m compileall -q .
# Numeric, so that runAsNonRoot-style checks can verify it is not root.
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "deploy/healthcheck.py"]
CMD ["gunicorn", "config.wsgi", "-c", "gunicorn.conf.py"]
