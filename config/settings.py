"""Settings, read from the environment (and from a `.env` file in the working directory).

Every variable is listed in `.env.example` and in docs/configuration.md. Importing
this module has no side effects: it starts no database, writes no file and reads no command
line; the commands that need a local database or key hand them over (devdb/embedded.py).
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import global_settings

from environment.databases import connection_settings, database_from_url
from environment.secret_key import secret_key_from
from environment.variables import PORT_MAX, ConfigurationError, env, env_bool, env_int, env_list, env_rate
from replicas.databases import replica_databases

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG")


# Database: DATABASE_URL, else the original course API's DATABASE_* variables. Nothing here
# starts one: `make run`, `make test` and `make bench` hand over an embedded PostgreSQL as
# DATABASE_URL when neither is set (devdb/embedded.py). Every variable is read in this
# file (deploy/tests/test_image.py checks .env.example against it).
def database_from_env() -> dict[str, Any]:
    """Django's settings for the default database, from DATABASE_URL or else the original's
    DATABASE_HOSTNAME/PORT/USERNAME/PASSWORD/NAME. Raises ConfigurationError (one line saying
    what to do) when neither is set."""
    if url := env("DATABASE_URL"):
        return database_from_url("DATABASE_URL", url)
    if host := env("DATABASE_HOSTNAME"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": host,
            "PORT": env("DATABASE_PORT", "5432"),
            "USER": env("DATABASE_USERNAME", "postgres"),
            "PASSWORD": env("DATABASE_PASSWORD"),
            "NAME": env("DATABASE_NAME", "postgres"),
        }
    raise ConfigurationError(
        "DATABASE_URL is not set: set it to a PostgreSQL server (postgres://user:password@host:5432/name), "
        'or use the embedded one, as make run and make test do: make manage ARGS="shell" (or any '
        "other command), which runs .venv/bin/python -m devdb.embedded .venv/bin/python manage.py shell."
    )


_default_db = database_from_env()
# The embedded PostgreSQL listens on a socket in this checkout's .local/ (devdb/embedded.py):
# a server of this run's own, whose CPU time the benchmark counts.
EMBEDDED_DATABASE = str(_default_db.get("HOST") or "").startswith(str(BASE_DIR / ".local") + "/")
# Behind PgBouncer in transaction pooling mode nothing may outlive a transaction: no
# server-side cursors, no prepared statements (environment/databases.py's connection_settings).
TRANSACTION_POOLING = env_bool("DATABASE_TRANSACTION_POOLING")
# The bounds of the settings below that a value too large would break while serving, not at
# start: PostgreSQL's statement_timeout is an int4 of milliseconds (a larger one refuses every
# connection); a token, a retry or a webhook's deadline lies in the future by its duration, and
# one past year 9999 is a 500 (Python's datetime) or an error of the database (timestamptz).
STATEMENT_TIMEOUT_MAX = 2_147_483  # seconds
FUTURE_MAX = 10 * 365 * 24 * 3600  # seconds: ten years
# Seconds a request's statement may run before PostgreSQL cancels it (a 503 with Retry-After);
# 0 turns it off. Management commands are not bounded (config/postgresql/base.py).
DATABASE_STATEMENT_TIMEOUT = env_int(
    "DATABASE_STATEMENT_TIMEOUT", 3, minimum=0, maximum=STATEMENT_TIMEOUT_MAX
)
connection_settings(
    _default_db, transaction_pooling=TRANSACTION_POOLING, statement_timeout=DATABASE_STATEMENT_TIMEOUT
)
DATABASES = {"default": _default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Refused when missing, and outside DEBUG when published or weak (environment/secret_key.py).
SECRET_KEY = secret_key_from(env("SECRET_KEY"), key_file=env("SECRET_KEY_FILE"), debug=DEBUG)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    # Django's admin, on a site whose login counts failures with POST /login (siteadmin/site.py).
    "siteadmin.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rest_framework_simplejwt.token_blacklist",
    "api",
    "accounts",
    "posts",
    "votes",
    "moderation",
    "comments",
    "follows",
    "course_import",
    # manage.py seed: demo data for every app, so it lives apart from them (demo/).
    "demo",
    "django_tasks_db",
    "webhooks",
    "observability",
]

MIDDLEWARE = [
    # Identical repeats of a single-value header (Authorization twice) are one header.
    "api.repeated_headers.RepeatedHeadersMiddleware",
    "observability.request_id.RequestIdMiddleware",
    # Near the top, so that it times and counts every answer; unused while METRICS_TOKEN is unset.
    "observability.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.cors.CorsMiddleware",
    # After CORS, so that a 413 for a chunked body is readable by a front end too.
    "config.chunked.ChunkedBodyMiddleware",
    # Every body of every content type within DATA_UPLOAD_MAX_MEMORY_SIZE (413), files included.
    "config.body_limit.BodyLimitMiddleware",
    # Sessions, Django's user and messages: the admin's pages only (siteadmin/middleware.py).
    "siteadmin.middleware.AdminSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "siteadmin.middleware.AdminAuthenticationMiddleware",
    "siteadmin.middleware.AdminMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# Both spellings of every path are routed directly; never redirect between them.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project-wide overrides of apps' templates (the docs pages).
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
# The original course API's bcrypt first, so every hash kept here also logs in to the original
# (manage.py export_course_db); hashes of the other hashers are re-hashed at the next login.
PASSWORD_HASHERS = ["accounts.hashers.PasslibBCryptPasswordHasher", *global_settings.PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email",)},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# STATIC_MANIFEST: the static files are collected (the image sets it, for its collectstatic
# and its server): served under hashed, compressed, cache-forever names from STATIC_ROOT, whose
# manifest `collectstatic` writes with this storage. Unset (local runs, tests): served from the
# apps' folders, and whitenoise must not look for (and warn, once per worker, about) a
# STATIC_ROOT that does not exist.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST")
STATIC_ROOT = Path(env("STATIC_ROOT") or BASE_DIR / "staticfiles") if STATIC_MANIFEST else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The load balancer's health check speaks plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health(/live|/ready)?/?$"]
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Only the admin uses cookies; in production they travel over HTTPS only. An admin served over
# plain HTTP on a private network may turn that off with ADMIN_COOKIES_SECURE=false.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("ADMIN_COOKIES_SECURE", not DEBUG)
# A refused admin form says what to do about it, not only "CSRF verification failed".
CSRF_FAILURE_VIEW = "config.csrf.csrf_failure"
# A request body past this is a 413. The largest valid post (100,000 characters, each of which
# may be a 12-byte JSON escape such as "\ud83c\udf89") is about 1.2 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Multipart file parts too are within that limit (config/body_limit.py): kept in memory, never
# written to a temporary file.
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]

# Set but empty (as an env file or compose template often leaves it) means the default too.
_cors_origins = env_list("CORS_ALLOWED_ORIGINS", "*") or ["*"]
CORS_ALLOW_ALL_ORIGINS = "*" in _cors_origins
CORS_ALLOWED_ORIGINS = [] if CORS_ALLOW_ALL_ORIGINS else _cors_origins
CORS_ALLOW_CREDENTIALS = False
# Every response header a front end on another origin may need to read (the CORS-safelisted
# ones, such as Content-Type, are readable anyway). Add a header here when a route starts
# sending one.
CORS_EXPOSE_HEADERS = [
    "Allow",  # 405: the methods the route serves
    "Retry-After",  # 429 and 503: when to try again
    "WWW-Authenticate",  # 401: which scheme to log in with
    "X-Request-ID",  # to quote in a bug report
    # Paging, counts, conditional requests and safe retries (docs/api.md, "HTTP semantics").
    "Link",
    "X-Total-Count",
    "ETag",
    "Idempotent-Replayed",
    "Preference-Applied",
    # Limits a client can see before it hits them (docs/operating.md).
    "RateLimit-Policy",
    "RateLimit",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.IgnoreAcceptNegotiation",
    # ISO 8601 with the numeric offset, as the original wrote datetimes: ...25.512062+00:00
    # (DRF's default writes "Z", which Python before 3.11 cannot read).
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%f%:z",
    "EXCEPTION_HANDLER": "api.errors.contract_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # No OPTIONS metadata answers: OPTIONS is 405, as in the original (CORS preflights are
    # answered by the CORS middleware before any view).
    "DEFAULT_METADATA_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # The client address for rate limits: REMOTE_ADDR, or with N trusted proxies in front, the
    # address the outermost of them saw (the Nth entry from the right of X-Forwarded-For), so a
    # client cannot pick its own address by sending the header.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(
        minutes=env_int("ACCESS_TOKEN_EXPIRE_MINUTES", 30, minimum=1, maximum=FUTURE_MAX // 60)
    ),
    "ALGORITHM": env("ALGORITHM", "HS256"),
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
    # Each refresh hands out a new refresh token and revokes the one used (accounts/tokens.py).
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Clock skew allowed between instances: a token whose `iat` is up to this far in the future
    # (issued by an instance whose clock runs ahead) is accepted, and `exp` is honoured with
    # the same margin.
    "LEEWAY": timedelta(seconds=env_int("JWT_LEEWAY_SECONDS", 30)),
}

# Rate-limit counters: shared through Redis when REDIS_URL is set, per process otherwise.
if redis_url := env("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            # A hung Redis costs a request tens of milliseconds, not the kernel's TCP timeouts:
            # the limits then fail open, with one warning (api/throttling.py; docs/abuse.md).
            "OPTIONS": {"socket_connect_timeout": 0.05, "socket_timeout": 0.05},
        },
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Read replicas (replicas/router.py): the API's reads go to them, everything else to the
# primary. A user who wrote reads from the primary for REPLICA_PIN_SECONDS on every instance,
# which needs the pins in the shared cache.
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 5, minimum=1)
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 2, minimum=0)
REPLICA_CHECK_SECONDS = 1
_replicas = replica_databases(
    env_list("DATABASE_REPLICA_URLS", ""),
    shared_cache=bool(redis_url),
    pin_seconds=REPLICA_PIN_SECONDS,
    max_lag_seconds=REPLICA_MAX_LAG_SECONDS,
    transaction_pooling=TRANSACTION_POOLING,
    statement_timeout=DATABASE_STATEMENT_TIMEOUT,
)
DATABASES.update(_replicas)
REPLICA_DATABASES = list(_replicas)
if REPLICA_DATABASES:
    DATABASE_ROUTERS = ["replicas.router.ReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("observability.request_id.RequestIdMiddleware") + 1,
        "replicas.router.ReplicaRoutingMiddleware",
    )

LOGIN_FAILURE_RATE = env_rate("LOGIN_FAILURE_RATE", "10/minute")
SIGNUP_RATE = env_rate("SIGNUP_RATE", "30/minute")
REPORT_RATE = env_rate("REPORT_RATE", "20/hour")  # reports of posts, per user
FOLLOW_RATE = env_rate("FOLLOW_RATE", "60/minute")  # follows and unfollows, per user
# Password-reset requests: per client address, and per email address asked about.
PASSWORD_RESET_RATE = env_rate("PASSWORD_RESET_RATE", "10/hour")
PASSWORD_RESET_EMAIL_RATE = env_rate("PASSWORD_RESET_EMAIL_RATE", "3/hour")
# Writes per user (docs/operating.md; api/throttling.py), with RateLimit headers on every answer.
POST_RATE = env_rate("POST_RATE", "30/minute")
VOTE_RATE = env_rate("VOTE_RATE", "120/minute")
COMMENT_RATE = env_rate("COMMENT_RATE", "30/minute")
FOLLOW_RATE = env_rate("FOLLOW_RATE", "60/minute")
EXPORT_RATE = env_rate("EXPORT_RATE", "5/hour")  # GET /users/me/export, per user
# Reads that cost in proportion to the table (api/read_budget.py), per user: in progress at
# once, and per window; and in progress at once for all users together: by default one core
# fewer than this process may use (at least 1), so that one core is always left to the other
# reads (docs/abuse.md). Set it to the database server's cores less one when it runs elsewhere.
# At most 1,000 each: a refused read tries every slot's lock first, and a user's slots are lock
# keys of their own only below 65,536 (api/read_budget.py, USER_NAMESPACE); 1,000 bounds nothing.
EXPENSIVE_READS_IN_FLIGHT = env_int("EXPENSIVE_READS_IN_FLIGHT", 1, minimum=1, maximum=1000)
EXPENSIVE_READS_IN_FLIGHT_TOTAL = env_int(
    "EXPENSIVE_READS_IN_FLIGHT_TOTAL", max((os.process_cpu_count() or 1) - 1, 1), minimum=1, maximum=1000
)
EXPENSIVE_READ_RATE = env_rate("EXPENSIVE_READ_RATE", "10/minute")
# Seconds an expensive read's statements may run (below DATABASE_STATEMENT_TIMEOUT; 0: that one).
EXPENSIVE_READ_TIMEOUT = env_int("EXPENSIVE_READ_TIMEOUT", 1, minimum=0, maximum=STATEMENT_TIMEOUT_MAX)
# The percentage of the time a user's searches and expensive reads may take, beyond a burst of
# a second's worth (api/read_budget.py); 100: not bounded.
EXPENSIVE_READ_SHARE = env_int("EXPENSIVE_READ_SHARE", 25, minimum=1)

# GET /metrics answers only with this bearer token; unset, it is a 404 and nothing is counted.
METRICS_TOKEN = env("METRICS_TOKEN")


# Kept here: config/tests/test_startup_errors.py finds the boolean variables in this file.
def mailer_from_env() -> dict[str, Any]:
    """Password-reset mail: Django's SMTP backend from the EMAIL_* variables; without EMAIL_HOST,
    the log (config/mail.py), so a local run needs nothing. Raises ConfigurationError."""
    if not (host := env("EMAIL_HOST")):
        return {"BACKEND": "config.mail.LogEmailBackend"}
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": host,
            "port": env_int(
                "EMAIL_PORT", 587 if env_bool("EMAIL_USE_TLS") else 25, minimum=1, maximum=PORT_MAX
            ),
            "username": env("EMAIL_HOST_USER"),
            "password": env("EMAIL_HOST_PASSWORD"),
            "use_tls": env_bool("EMAIL_USE_TLS"),
            "timeout": 10,  # seconds: a stuck mail server must not hold the mail thread for ever
        },
    }


MAILERS = {"default": mailer_from_env()}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", global_settings.DEFAULT_FROM_EMAIL)
# Background work (django.tasks), stored in PostgreSQL and run by `manage.py worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Seconds before the first retry of a mail the SMTP server refused; each next one waits twice as long.
# At most a day (each later attempt of accounts/tasks.py waits twice as long as the one before).
MAIL_RETRY_FIRST = env_int("MAIL_RETRY_FIRST", 10, minimum=0, maximum=24 * 3600)
# Webhooks (webhooks/): receivers on loopback or private addresses only when allowed (SSRF).
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", DEBUG)
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 10, minimum=1)  # seconds per attempt
# Seconds before a webhook's first retry (each next delay doubles), the longest delay, and how
# long after the event it is retried at all.
WEBHOOK_RETRY_FIRST = env_int("WEBHOOK_RETRY_FIRST", 5, minimum=1, maximum=FUTURE_MAX)
WEBHOOK_RETRY_MAX_DELAY = env_int("WEBHOOK_RETRY_MAX_DELAY", 3600, minimum=1, maximum=FUTURE_MAX)
WEBHOOK_RETRY_FOR = env_int("WEBHOOK_RETRY_FOR", 86400, minimum=1, maximum=FUTURE_MAX)
WEBHOOK_DELIVERY_THREADS = env_int("WEBHOOK_DELIVERY_THREADS", 4, minimum=1)  # per worker
# Seconds a reset token stays valid (Django's PasswordResetTokenGenerator reads this).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600, minimum=1)
# A front end's reset page, with {uid} and {token}; without it the mail gives both values.
PASSWORD_RESET_URL = env("PASSWORD_RESET_URL")

SPECTACULAR_SETTINGS = {
    "TITLE": "Social media API",
    "DESCRIPTION": (
        "Users, JWT login, posts with owners, and votes.\n\n"
        "Sign up with `POST /users/`, then log in at `POST /login` with the form fields "
        "`username` (your email) and `password`; send the `access_token` it returns as "
        "`Authorization: Bearer <token>`. Here, the **Authorize** button does that for you.\n\n"
        'Every error is `{"detail": "..."}`; a validation error is 422 with `detail` a list '
        'of `{"loc", "msg", "type"}`. Every path answers with and without its trailing slash. '
        "Text fields refuse the NUL character (a 422)."
    ),
    "VERSION": "1.0.0",
    # Request bodies get their own components (`PostRequest`), without the read-only fields.
    "COMPONENT_SPLIT_REQUEST": True,
    # The original's path spellings. Every other rule is stated per operation or per field
    # (api.autoschema); the postprocessing hooks are drf-spectacular's default (enums).
    "PREPROCESSING_HOOKS": ["api.openapi.original_path_spellings"],
    "TAGS": [
        {"name": "Posts", "description": "Posts, newest first, each with its vote count."},
        {"name": "Users", "description": "Sign up, look up a user, manage your own account."},
        {
            "name": "Authentication",
            "description": "Log in for a bearer token, refresh it, log out, reset a forgotten password.",
        },
        {"name": "Vote", "description": "Add or remove your vote on a post."},
        {"name": "Comments", "description": "Threaded comments under posts, oldest first."},
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge from the online validator: the docs load nothing from another host.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# One JSON line per record on stderr, with the request id and without secrets (observability/log.py).
LOG_LEVEL = env("LOG_LEVEL", "WARNING").upper()
# Django writes a WARNING for every 4xx ("Unauthorized: /users/me", each 429 of a flood):
# gunicorn's access line already has its status, path and request id, and the JSON line cost 30
# to 80 µs of CPU per answer. So at WARNING (the default) django.request writes only its errors
# (5xx, tracebacks); at INFO or DEBUG, every line, as asked.
REQUEST_LOG_LEVEL = LOG_LEVEL if LOG_LEVEL in ("DEBUG", "INFO", "CRITICAL") else "ERROR"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "observability.log.JsonLineFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's own handlers print only when DEBUG is on; its errors come here instead.
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.request": {"level": REQUEST_LOG_LEVEL},
    },
}
