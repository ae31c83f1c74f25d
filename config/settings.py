"""One settings module, driven by environment variables only (README lists them).

`make run` sets DEBUG=1 and a throwaway SECRET_KEY (PII keys come from var/local_keys.json);
production sets SECRET_KEY, PII_ENCRYPTION_KEYS, PII_HASH_KEY, DATABASE_URL, ALLOWED_HOSTS and
CELERY_BROKER_URL and passes `manage.py check --deploy`.
"""

from datetime import timedelta
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import local_keys

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-debug-only-key"  # noqa: S105 - only ever used with DEBUG on

# PII (national ID, phone) is encrypted at rest (lending.models.fields). PII_ENCRYPTION_KEYS are
# Fernet keys: the first encrypts, every one decrypts, so a key is rotated by putting a new one
# first and keeping the old ones after it. Losing them loses the data they encrypted.
# PII_HASH_KEY keys the HMAC-SHA256 that finds a national ID or mobile by exact value.
# With DEBUG on and neither in the environment, they come from a file made once per checkout
# (config/local_keys.py); with DEBUG off both are required.
PII_ENCRYPTION_KEYS = [key.strip() for key in env.list("PII_ENCRYPTION_KEYS", default=[])]
PII_ENCRYPTION_KEYS = [key for key in PII_ENCRYPTION_KEYS if key]
PII_HASH_KEY = env.str("PII_HASH_KEY", default="")
if DEBUG and not (PII_ENCRYPTION_KEYS and PII_HASH_KEY):
    _local = local_keys.load_or_create(
        env.path("LOCAL_KEYS_FILE", default=VAR_DIR / "local_keys.json")
    )
    PII_ENCRYPTION_KEYS = PII_ENCRYPTION_KEYS or _local["PII_ENCRYPTION_KEYS"].split(",")
    PII_HASH_KEY = PII_HASH_KEY or _local["PII_HASH_KEY"]
_MAKE_FERNET_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)
_MAKE_HASH_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
if not PII_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "PII_ENCRYPTION_KEYS must be set when DEBUG is off (comma-separated Fernet keys, "
        f"the first encrypts); make one with: {_MAKE_FERNET_KEY}"
    )
for _position, _key in enumerate(PII_ENCRYPTION_KEYS, start=1):
    try:
        Fernet(_key)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            f"PII_ENCRYPTION_KEYS entry {_position} is not a Fernet key (urlsafe base64 of "
            f"32 bytes); make one with: {_MAKE_FERNET_KEY}"
        ) from None
if len(PII_HASH_KEY) < 32:
    raise ImproperlyConfigured(
        (
            "PII_HASH_KEY must be set when DEBUG is off"
            if not PII_HASH_KEY
            else f"PII_HASH_KEY is {len(PII_HASH_KEY)} characters, it needs at least 32"
        )
        + f" (the secret of the PII lookup hash); make one with: {_MAKE_HASH_KEY}"
    )
# encrypted_fields reads SALT_KEY at import; our field subclass derives nothing from it.
SALT_KEY = "lending-pii"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.admin_site.BackOfficeAdminConfig",  # django.contrib.admin with the System section
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "django_celery_beat",
    "config.vendor_apps.AxesConfig",  # django-axes, its section named in words
    "lending",
    "risk",
    "debt_collection",
    "apikeys",
    "imports",
    "portfolio",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# SQLite under var/ is the zero-setup default for `make run`; PostgreSQL is production and CI.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_POOL", default=False
):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = True
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env.bool(
    "DATABASE_JIT", default=False
):
    # PostgreSQL's JIT compiles every plan its estimate calls big: on admin lists that was up
    # to 3 s of compiling for 50 ms of work (docs/benchmarks.md). Off unless asked for.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The same backend, reading back the largest amounts the columns hold (config/sqlite3).
    DATABASES["default"]["ENGINE"] = "config.sqlite3"
    # Tests keep Django's in-memory SQLite (pytest-django recognises it by this name only).
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", ":memory:")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username,
# that username cannot log in for AXES_COOLOFF_MINUTES, from any IP address (a guessing run
# spread over many addresses is stopped too); a successful login clears the count. Staff unlock
# an account early with `manage.py axes_reset_username USERNAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "lending.auth_backend.PermissionsBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Locked per login: a guessing run against one account stops whatever address it comes from.
# Per address as well would lock a whole office behind one NAT after a few typos between them,
# so axes' warning that the address is not a parameter is silenced on purpose.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
# locale/ is the project's own catalogue (makemessages writes there: it comes first); locale_vendor/
# holds hand-kept translations for installed apps that ship no Chinese (django-axes). The first
# path wins where both hold a msgid; either wins over the apps' and Django's own (docs/i18n.md).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_vendor"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True
# Project number formats before Django's (config/formats): Chinese amounts grouped by three with
# a comma like English ones. Money and rates are shown through lending.formatting (docs/i18n.md).
FORMAT_MODULE_PATH = ["config.formats"]

# The book's currency; amounts are quantized to its minor unit (lending.money).
CURRENCY = env.str("CURRENCY", default="CNY")

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")

# The REST API (docs/api.md). Token first: an unauthenticated request is told 401 with
# `WWW-Authenticate: Token` (DRF answers 403 when the first authenticator sends no challenge).
# Permissions: authenticated plus each view's read permission; the services decide writes.
# Errors leave as RFC 9457 problem details (config/api/errors.py).
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.HasReadPermission"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.NumberedPage",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    # Per user once logged in, per address before (the token login).
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="1200/minute"),
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
    },
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
}
# Idempotency-Key rows are kept this long (docs/api.md); `purge_idempotency_keys` deletes older.
API_IDEMPOTENCY_KEY_HOURS = max(24, env.int("API_IDEMPOTENCY_KEY_HOURS", default=24))
SPECTACULAR_SETTINGS = {
    "TITLE": "Lending back office API",
    "DESCRIPTION": "Loans, repayments, borrowers, applications, credit limits, policies and the "
    "nightly close. Every error is RFC 9457 problem details with a stable `code` "
    "(docs/api.md).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ProblemCodeEnum": "config.api.errors.ALL_CODES",
        "LoanStatusEnum": "lending.models.LoanStatus",
        "RunStatusEnum": "lending.models.RunStatus",
        "ChunkStatusEnum": "lending.models.ChunkStatus",
        "ApplicationStatusEnum": "risk.models.ApplicationStatus",
        "LimitStatusEnum": "risk.models.LimitStatus",
        "PolicyStatusEnum": "risk.models.PolicyStatus",
        "CaseStatusEnum": "debt_collection.models.CaseStatus",
        "CloseReasonEnum": "debt_collection.models.CloseReason",
        "ContactChannelEnum": "debt_collection.models.Channel",
        "ContactPartyEnum": "debt_collection.models.Party",
        "ContactOutcomeEnum": "debt_collection.models.Outcome",
        "PromiseStateEnum": "debt_collection.models.PromiseState",
        "HoldKindEnum": "debt_collection.models.HoldKind",
        "CompliancePolicyStatusEnum": "debt_collection.models.PolicyStatus",
        "ProposalStateEnum": "debt_collection.models.ProposalState",
        "LimitProposalStatusEnum": "risk.models.ProposalStatus",
    },
}

# `make run` needs no broker: kombu's filesystem transport and a file result backend under var/.
# Production sets CELERY_BROKER_URL (Redis or RabbitMQ); results default to the same Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
_EMBEDDED_BROKER = CELERY_BROKER_URL == "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "broker" / "queue"),
        "data_folder_out": str(VAR_DIR / "broker" / "queue"),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "store_processed": False,
    }
    if _EMBEDDED_BROKER
    else {}
)
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND",
    default=f"file://{VAR_DIR / 'broker' / 'results'}"
    if _EMBEDDED_BROKER
    else (CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "rpc://"),
)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
# Loans per close-of-business chunk (one transaction, one Celery task each).
CLOSE_OF_BUSINESS_CHUNK_SIZE = env.int("CLOSE_OF_BUSINESS_CHUNK_SIZE", default=2000)
# Spreadsheets (docs/imports.md, docs/exports.md): uploads larger than this run on a Celery
# worker with progress on their record; exports of more rows than this are refused (the file
# is built in memory).
IMPORTS_ASYNC_BYTES = env.int("IMPORTS_ASYNC_BYTES", default=1_000_000)
EXPORT_MAX_ROWS = env.int("EXPORT_MAX_ROWS", default=100_000)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Collections reminders (docs/collections.md): the sender class by dotted path (the log by
# default; debt_collection.senders.EmailSender through EMAIL_BACKEND to an e-mail-to-SMS
# gateway's domain), and the language they are written in.
COLLECTIONS_REMINDER_SENDER = env.str(
    "COLLECTIONS_REMINDER_SENDER", default="debt_collection.senders.LogSender"
)
COLLECTIONS_REMINDER_EMAIL_DOMAIN = env.str("COLLECTIONS_REMINDER_EMAIL_DOMAIN", default="")
COLLECTIONS_REMINDER_LANGUAGE = env.str("COLLECTIONS_REMINDER_LANGUAGE", default="zh-hans")

_ONE_YEAR = 365 * 24 * 3600
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # HSTS for a year; subdomains and the browsers' preload list only when asked for, as both
    # bind hosts beyond this one and preloading is slow to undo. Preload lists require a max-age
    # of at least a year.
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=_ONE_YEAR)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if SECURE_HSTS_PRELOAD and SECURE_HSTS_SECONDS < _ONE_YEAR:
        raise ImproperlyConfigured(
            f"SECURE_HSTS_PRELOAD needs SECURE_HSTS_SECONDS of at least {_ONE_YEAR} (one year); "
            f"it is {SECURE_HSTS_SECONDS}."
        )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
