"""Django settings for Stammkunde, read from the environment (12-factor).

Defaults give the embedded set-up: SQLite and a generated secret key under
``var/``, jobs run eagerly. Production points ``DATABASE_URL`` at PostgreSQL
and ``CELERY_BROKER_URL`` at Redis without changing code.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("STAMMKUNDE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """Return SECRET_KEY from the environment or a key generated once into var/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("STAMMKUNDE_DEBUG", False)
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "stammkunde.core.adminsite.AdminConfig",  # Django's admin, with the TOTP check
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",  # django-csp: its system checks
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_celery_beat",
    "stammkunde.core",
    "stammkunde.core.jobs",
    "stammkunde.customers",
    "stammkunde.commerce",
    "stammkunde.dataio",
    "stammkunde.service",
    "stammkunde.channels",
    "stammkunde.knowledge",
    "stammkunde.loyalty",
    "stammkunde.feedback",
    "stammkunde.analytics",
    "stammkunde.campaigns",
    "stammkunde.workforce",
    "stammkunde.privacy",
    "stammkunde.setup",  # the settings pages (/settings/) and the first-run wizard
    "stammkunde.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # the Content-Security-Policy header (CONTENT_SECURITY_POLICY)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # NUL and other control characters, overlong values, broken UTF-8: 400 before any view
    # (before the sessions, which would look a broken cookie up in the database).
    "stammkunde.core.inputs.InputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the TOTP step passed
    "django.contrib.messages.middleware.MessageMiddleware",
    "stammkunde.setup.middleware.FirstRunMiddleware",  # no user yet: "/" opens the wizard
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "stammkunde.core.audit.ReadAuditMiddleware",
]

ROOT_URLCONF = "stammkunde.urls"
WSGI_APPLICATION = "stammkunde.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "stammkunde.core.context_processors.navigation",
                "stammkunde.core.jobs.context_processors.failed_jobs",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'stammkunde.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process worker and the web server read while one writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "stammkunde.core.backends.RoleModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login rate limit: five failures per username and address lock for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Failures are rows in the database: every worker sees them, and a restart keeps them.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# Optional second factor for admins (core.twofactor): the name the authenticator app shows.
OTP_TOTP_ISSUER = "Stammkunde"
# A password reset link is valid for one day (and used once: the hash changes with it).
PASSWORD_RESET_TIMEOUT = 24 * 3600

SECURE_COOKIES = _env_bool("STAMMKUNDE_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# HTTPS only, outside debug: browsers remember it for a year (HSTS). Django sends the header on
# HTTPS answers only; behind a proxy that ends TLS, STAMMKUNDE_PROXY_SSL_HEADER=1 trusts its
# X-Forwarded-Proto (only then: without such a proxy a client could fake it).
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("STAMMKUNDE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("STAMMKUNDE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _env_bool("STAMMKUNDE_HSTS_PRELOAD", False)
# Off by default: the proxy in front usually redirects to HTTPS itself.
SECURE_SSL_REDIRECT = _env_bool("STAMMKUNDE_SSL_REDIRECT", False)
if _env_bool("STAMMKUNDE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A strict policy: scripts and styles only from our own static files (no inline code, no
# eval, no CDN); data: images for QR codes and chart icons. See docs/security.md.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Only an empty style attribute (the hash of ""): plotly's colorbar sets style=""
        # on its rects, which changes nothing but is reported as a violation otherwise.
        "style-src-attr": [
            "'unsafe-hashes'",
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        ],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "stammkunde.core.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "stammkunde.core.inputs.JSONParser",  # refuses NUL, control characters, deep nesting
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "stammkunde.core.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "stammkunde.core.api.IdCursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "stammkunde.core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "6000/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Stammkunde API",
    "DESCRIPTION": "Customer retention and customer service: customers, orders, products.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema maps every route and field: only for logged-in users (session or token).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# The schedule lives in the database (django-celery-beat), synced from the job registry.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A worker takes one message at a time, so long jobs do not hold back queued chunks.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Jobs without a broker: threads of this process; JOBS_INLINE runs them in the caller (tests).
JOBS_THREADS = int(os.environ.get("STAMMKUNDE_JOBS_THREADS", "2"))
JOBS_INLINE = _env_bool("STAMMKUNDE_JOBS_INLINE", False)

_REDIS_CACHE = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": os.environ.get("REDIS_URL", ""),
}
CACHES = {
    # Progress counters and computed results: they must be seen outside the writer's
    # transaction, so the embedded default keeps them in the process's memory.
    "default": (
        _REDIS_CACHE
        if os.environ.get("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # Rate limits: one store for every worker that survives a restart (docs/security.md).
    "shared": (
        _REDIS_CACHE
        if os.environ.get("REDIS_URL")
        else {
            "BACKEND": "stammkunde.core.cache.DatabaseCache",
            "LOCATION": "stammkunde_cache",  # the table of core.CacheEntry
            "OPTIONS": {"MAX_ENTRIES": 200_000},  # culling would forget counts
        }
    ),
}
# Rate limits per scope: hits per address ("ip") and per account (login name or
# e-mail address) and window, counted in the shared cache by ``core.ratelimit``.
RATELIMIT_USE_CACHE = "shared"
RATE_LIMITS = {
    "login": {"ip": "30/15m", "account": "10/15m"},
    "password_reset": {"ip": "10/h", "account": "3/h"},
    "contact": {"ip": "5/10m", "account": "5/10m"},
    "booking": {"ip": "20/h", "account": "5/h"},
    "helpcenter_search": {"ip": "120/m"},
    "customer_search": {"ip": "600/m", "account": "120/m"},  # the customer picker
}

# Imports: the largest file the upload form, the API and the CLI accept (dataio/limits.py).
IMPORT_MAX_MB = max(1, int(os.environ.get("STAMMKUNDE_IMPORT_MAX_MB", "200")))
# Django's limits, stated so they are not raised by accident: bodies that are not files
# (forms, JSON) at most 2.5 MB in memory; an upload above 2.5 MB is spooled to a temporary
# file, so a 200 MB import never sits in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 100

# Webhook targets on private, loopback or reserved addresses are refused (SSRF) unless
# this is on for all, or an admin allows it for one subscription.
WEBHOOK_ALLOW_PRIVATE = _env_bool("STAMMKUNDE_WEBHOOK_ALLOW_PRIVATE", False)

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "service@stammkunde.example")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
