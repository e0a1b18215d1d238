"""Daisy's one settings module. Everything that differs between a laptop and production is read
from environment variables (documented in docs/configuration.md); the defaults run the demo
clinic on an embedded SQLite database with no other service."""

from __future__ import annotations

import importlib.util
import json
from datetime import timedelta
from pathlib import Path

import dj_database_url

from daisy.env import env_bool, env_int, env_list, env_str, public_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DAISY_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
# The demo and tests run without a configured key; `daisy check --deploy` refuses this one.
SECRET_KEY = env_str("SECRET_KEY", "insecure-demo-key-change-me-" + "x" * 40)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_tasks",
    "django_tasks_db",
    "django_htmx",
    "template_partials",
    "ninja",  # the API's docs page, served with ninja's bundled Swagger UI (no CDN)
    "axes",  # sign-in lockout after repeated failures (issue 4)
    # Staff two-factor sign-in: authenticator apps and recovery codes (issue 16).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "daisy.lib",
    "daisy.accounts",
    "daisy.audit",
    "daisy.clinic",
    "daisy.treatments",
    "daisy.aftercare",
    "daisy.clients",
    "daisy.scheduling",
    "daisy.courses",
    "daisy.records",
    "daisy.booking",
    "daisy.notifications",
    "daisy.site",
    "daisy.portal",
    "daisy.backoffice",
    "daisy.api",
    # The demo clinic's seed and commands: above every layer, like this file (DESIGN.md 3).
    "daisy.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Staff pages (/desk/, /admin/) open only to a session that passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    "daisy.accounts.middleware.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "daisy.urls"
WSGI_APPLICATION = "daisy.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "daisy" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "daisy.site.context_processors.clinic",
            ],
        },
    }
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'daisy.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's own SQLite backend. IMMEDIATE makes every atomic() take the write lock before it
    # reads, so check-then-insert is serialised; the timeout (seconds) makes a second writer wait
    # in SQLite's busy handler instead of failing (research/performance.md 2.3).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    # A file, not :memory:, so that concurrency tests' threads and processes share one database
    # with SQLite's real locking.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-daisy.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Clients sign in with their email address (daisy/accounts); staff with their username at /admin/.
# Axes comes first so a locked-out visitor is refused before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "daisy.accounts.backends.ClientEmailBackend",
    "daisy.accounts.backends.RoleBackend",
]
LOGIN_URL = "accounts:sign-in"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
# Per address and client IP: a stranger elsewhere cannot lock a client out of their account.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Client addresses are counted whatever their case; staff usernames as typed at /admin/.
AXES_USERNAME_CALLABLE = "daisy.accounts.lockout.username_of"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "daisy.accounts.lockout.locked_out"
# The address typed is personal data: logs carry a digest of it, never the address.
AXES_CLIENT_STR_CALLABLE = "daisy.accounts.lockout.client_str"
AXES_VERBOSE = False
# Three limits instead of axes' one (daisy/accounts/lockout.py): this account from this address
# (AXES_FAILURE_LIMIT), this address across accounts (password spraying), this account across
# addresses. The address is read as daisy.lib.addresses.client_address reads it.
AXES_HANDLER = "daisy.accounts.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "daisy.accounts.lockout.client_ip"
DAISY_SIGN_IN_ADDRESS_LIMIT = env_int("DAISY_SIGN_IN_ADDRESS_LIMIT", 20)
DAISY_SIGN_IN_ACCOUNT_LIMIT = env_int("DAISY_SIGN_IN_ACCOUNT_LIMIT", 10)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# The project-wide stylesheet lives in daisy/static, which belongs to no app, so the app
# directories finder alone never finds it (pages and the browser suite ran unstyled).
STATICFILES_DIRS = [BASE_DIR / "daisy" / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on a missing root; finders serve the files
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
# Only photos under media/public/ are ever served, by daisy/site/views.py:photo_file.
MEDIA_URL = "/media/"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 8)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
X_FRAME_OPTIONS = "DENY"
# HTTPS (issue 16; docs/deployment.md): HSTS for SECURE_HSTS_SECONDS (0: off), preload only when
# asked (a preload list entry is slow to undo, so `check --deploy` is not asked to insist on it);
# plain HTTP redirected to HTTPS except the health check a load balancer polls; and the header a
# TLS-terminating proxy sets, as "Header-Name: value", trusted only when configured.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health$"]
if env_str("SECURE_PROXY_SSL_HEADER").partition(":")[2].strip():
    _name, _sep, _value = env_str("SECURE_PROXY_SSL_HEADER").partition(":")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.strip().upper().replace("-", "_"), _value.strip())
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content Security Policy (django-csp 4): scripts and styles only from our own static files, no
# inline scripts or style attributes, on every page: the site, the portal, the admin and the
# API's Swagger page all work under it (daisy/site/tests/test_browser_foundation.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DAISY_MAX_BODY_BYTES", 256 * 1024)
# Clinical photos (issue 14, item 7): health data, kept outside MEDIA_ROOT and the static files
# (nothing serves this folder; daisy/records/photos.py reads it for an access-checked, audited
# view). A larger upload is refused with a message (a phone photo is 2-12 MB).
DAISY_PHOTO_DIR = Path(env_str("DAISY_PHOTO_DIR", str(VAR_DIR / "photos")))
DAISY_PHOTO_MAX_BYTES = env_int("DAISY_PHOTO_MAX_BYTES", 20 * 1024 * 1024)

# Tasks (only the prompt trigger for message delivery: the Message table is the truth) stay on
# the database queue in every set-up, run by `daisy worker`; REDIS_URL does not move them to
# Redis (docs/architecture.md, "Redis and the task queue").
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# Redis (the `scale` extra) holds what several processes must share and the database should not:
# the API rate-limit counters (daisy/lib/limits.py) and the cache, which counts slot holds per
# address and account. Without REDIS_URL both are per process (one web process).
REDIS_URL = env_str("REDIS_URL")
# Seconds to wait for Redis before a rate limit refuses the request (503) as uncountable.
DAISY_REDIS_TIMEOUT_SECONDS = float(env_str("DAISY_REDIS_TIMEOUT_SECONDS", "1"))
if REDIS_URL:
    if importlib.util.find_spec("redis") is None:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "REDIS_URL is set but the redis package is not installed: "
            "pip install 'daisy[scale]' (or the project's requirements.lock)."
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "daisy",
            "OPTIONS": {
                "socket_timeout": DAISY_REDIS_TIMEOUT_SECONDS,
                "socket_connect_timeout": DAISY_REDIS_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
if EMAIL_BACKEND in ("smtp", "django.core.mail.backends.smtp.EmailBackend"):
    # Django's SMTP backend, plus a short limit for reaching the server and the knowledge of
    # whether a failed message had been handed over in full (daisy/notifications/channels/smtp.py)
    EMAIL_BACKEND = "daisy.notifications.channels.smtp.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL", "Daisy Laser & Skin Care Clinic <hello@daisy.example>"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Secrets in addresses redacted; an oversized body a warning, not an error (daisy/lib/logs.py).
    "filters": {"safe": {"()": "daisy.lib.logs.SafeRecords"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["safe"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The clinic's name as shown on pages and in messages; the Location rows carry the rest.
DAISY_CLINIC_NAME = env_str("DAISY_CLINIC_NAME", "Daisy Laser & Skin Care Clinic")
DAISY_VERSION = "0.1.0"
# Longest window any availability question may span (issue 2, "Bad input").
DAISY_MAX_WINDOW_DAYS = 366
# How long a chosen time is held while the client fills in the booking form (issue 4).
DAISY_SLOT_HOLD_MINUTES = env_int("DAISY_SLOT_HOLD_MINUTES", 10)
# Holds cannot jam the diary (issue 11, item 6; DESIGN.md 4 "Holds are bounded"). A visitor who
# is not signed in holds a time this long until they have entered their details; then the hold
# runs to DAISY_SLOT_HOLD_MINUTES from when it was made.
DAISY_SLOT_HOLD_ANONYMOUS_MINUTES = env_int("DAISY_SLOT_HOLD_ANONYMOUS_MINUTES", 3)
# A client may ask for more time on a held time (the booking pages' "Keep this time for longer"),
# each time a fresh hold time from then, but never past this many minutes from when it was held.
DAISY_SLOT_HOLD_MAX_MINUTES = env_int("DAISY_SLOT_HOLD_MAX_MINUTES", 30)
# Times held per client address, per network (IPv4 /24, IPv6 /64) and per signed-in account in
# each window of DAISY_SLOT_HOLD_LIMIT_MINUTES, counted in the cache (shared by every server
# process only with REDIS_URL). Staff are not limited. 0 turns a limit off.
DAISY_SLOT_HOLDS_PER_ADDRESS = env_int("DAISY_SLOT_HOLDS_PER_ADDRESS", 6)
DAISY_SLOT_HOLDS_PER_NETWORK = env_int("DAISY_SLOT_HOLDS_PER_NETWORK", 20)
DAISY_SLOT_HOLDS_PER_ACCOUNT = env_int("DAISY_SLOT_HOLDS_PER_ACCOUNT", 6)
DAISY_SLOT_HOLD_LIMIT_MINUTES = env_int("DAISY_SLOT_HOLD_LIMIT_MINUTES", 10)
# At most this share (percent) of a day's bookable times for a treatment at a location may be
# blocked by holds of visitors who are not signed in (the first such hold of a day is always
# allowed). Staff book over those holds whatever this says.
DAISY_SLOT_HOLD_ANONYMOUS_DAY_PERCENT = env_int("DAISY_SLOT_HOLD_ANONYMOUS_DAY_PERCENT", 20)
# The client's address is REMOTE_ADDR unless this names the header a trusted reverse proxy sets
# (e.g. "X-Forwarded-For"); it is then read from that header, DAISY_PROXY_COUNT entries from
# its right (the one the nearest of that many proxies appended). Leave it empty without a proxy:
# anyone can send the header.
DAISY_CLIENT_ADDRESS_HEADER = env_str("DAISY_CLIENT_ADDRESS_HEADER", "")
DAISY_PROXY_COUNT = env_int("DAISY_PROXY_COUNT", 1)
# API rate limits (daisy/api/throttles.py: django-ninja's throttling on the cache): at most
# that many requests in any sliding period, per token and per client address, for the write
# endpoints and for availability (issue 3). A burst of 60 writes from one token passes.
# Per address, the limits sit above what one server answers (make bench: uncached
# availability, 2 workers, on the order of 100 requests/s; a booking costs more): they stop a
# runaway client, never a clinic's own website or every visitor behind one proxy.
# The environment variable takes the same shape as JSON; "{}" turns limiting off.
# Phone numbers typed without a country code are read as numbers of the booking's location's
# country (Location.country); where no location is known (staff screens, the API), of this
# region (ISO 3166). Only numbers assigned to someone are accepted; the Ofcom drama range
# (+44 7700 900xxx) only with DAISY_PHONE_TEST_NUMBERS on (the tests and the demo clinic).
DAISY_PHONE_REGION = env_str("DAISY_PHONE_REGION", "GB")
DAISY_PHONE_TEST_NUMBERS = env_bool("DAISY_PHONE_TEST_NUMBERS", False)
DAISY_API_RATE_LIMITS = (
    json.loads(env_str("DAISY_API_RATE_LIMITS"))
    if env_str("DAISY_API_RATE_LIMITS")
    else {
        "write": {"token": "120/minute", "ip": "6000/minute"},
        "availability": {"token": "12000/minute", "ip": "12000/minute"},
    }
)

# --- Message delivery (issue 6; owned by daisy/notifications) ---------------------------------
# The outbox (notifications.Message) is delivered by `daisy worker`: each claim takes a lease and
# marks the hand-off before any channel call; a sweep recovers the leases of lost workers.
# Each message's hand-off is marked (and the previous one's result recorded) in its own commit.
# The lease must outlast one claimed group: EMAIL_TIMEOUT (or DAISY_SMS_TIMEOUT) per message.
DAISY_MESSAGE_LEASE_SECONDS = env_int("DAISY_MESSAGE_LEASE_SECONDS", 120)
# How often each worker looks for due messages and expired leases (the safety net behind the
# task trigger); the p99 delay after send_after is about one interval.
DAISY_MESSAGE_POLL_SECONDS = float(env_str("DAISY_MESSAGE_POLL_SECONDS", "2"))
# Rows leased per claim. A lost worker's group goes back to pending when the lease runs out; only
# the one message it had in hand is re-sent (same Message-ID) and flagged outcome_unknown.
DAISY_MESSAGE_HANDOFF_GROUP = env_int("DAISY_MESSAGE_HANDOFF_GROUP", 10)
# Outbox threads per `daisy worker` process: while one waits for the mail server, another works.
DAISY_MESSAGE_WORKER_THREADS = env_int("DAISY_MESSAGE_WORKER_THREADS", 2)
# Retries: after attempt n, wait min(base * 2**(n-1), max); failed after max_attempts.
DAISY_MESSAGE_MAX_ATTEMPTS = env_int("DAISY_MESSAGE_MAX_ATTEMPTS", 8)
DAISY_MESSAGE_RETRY_BASE_SECONDS = float(env_str("DAISY_MESSAGE_RETRY_BASE_SECONDS", "60"))
DAISY_MESSAGE_RETRY_MAX_SECONDS = float(env_str("DAISY_MESSAGE_RETRY_MAX_SECONDS", "21600"))
# Scheduling a message also enqueues the `deliver_due` task after commit (the prompt trigger).
DAISY_MESSAGE_ENQUEUE_TASK = env_bool("DAISY_MESSAGE_ENQUEUE_TASK", True)
# Right-hand side of every Message-ID (<message uuid>@domain); defaults to the sender's domain.
DAISY_MESSAGE_ID_DOMAIN = env_str(
    "DAISY_MESSAGE_ID_DOMAIN",
    DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "daisy.invalid",
)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
# Reaching the mail server (connect, greeting, STARTTLS, log-in) must take less than this; each
# command after it has EMAIL_TIMEOUT. A server that does not answer in time pauses the channel.
DAISY_SMTP_CONNECT_TIMEOUT = float(env_str("DAISY_SMTP_CONNECT_TIMEOUT", "5"))
# A channel whose server did not answer is left alone for this long (its messages wait, the
# other channels go on); then one message tries again.
DAISY_CHANNEL_PAUSE_SECONDS = float(env_str("DAISY_CHANNEL_PAUSE_SECONDS", "30"))
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# SMS: "file" (one file per message under DAISY_SMS_FILE_DIR, the default), "console" (the log),
# "twilio" (Twilio's REST API shape), or a dotted path to a SmsChannel subclass.
DAISY_SMS_BACKEND = env_str("DAISY_SMS_BACKEND", "file")
DAISY_SMS_FILE_DIR = Path(env_str("DAISY_SMS_FILE_DIR", str(VAR_DIR / "sms")))
DAISY_SMS_FROM = env_str("DAISY_SMS_FROM", "Daisy")
DAISY_SMS_TIMEOUT = env_int("DAISY_SMS_TIMEOUT", 15)
DAISY_TWILIO_BASE_URL = env_str("DAISY_TWILIO_BASE_URL", "https://api.twilio.com")
DAISY_TWILIO_ACCOUNT_SID = env_str("DAISY_TWILIO_ACCOUNT_SID")
DAISY_TWILIO_AUTH_TOKEN = env_str("DAISY_TWILIO_AUTH_TOKEN")
DAISY_TWILIO_MESSAGING_SERVICE_SID = env_str("DAISY_TWILIO_MESSAGING_SERVICE_SID")
# --- end of message delivery ------------------------------------------------------------------

# --- Booking, aftercare and check-in messages (issue 6; owned by daisy/aftercare) -------------
# Where the site is reached from outside: every link in an email, a text message or a calendar
# file starts with it. Unset: derived from PORT and HOST (daisy.env.public_url), so
# `PORT=8080 make demo` links to 8080. Set it in production (https://clinic.example).
DAISY_PUBLIC_URL = public_url()
# Reminders this many hours before an appointment, counted in the location's local time ("24"
# is the same clock time the day before, across DST changes). Email always; SMS as well for the
# hours in DAISY_SMS_REMINDER_HOURS when the client has a phone number.
DAISY_REMINDER_HOURS = [int(h) for h in env_list("DAISY_REMINDER_HOURS", ["48", "24"])]
DAISY_SMS_REMINDER_HOURS = [int(h) for h in env_list("DAISY_SMS_REMINDER_HOURS", ["24"])]
# Local quiet hours "HH:MM-HH:MM" (may wrap past midnight): reminders, aftercare steps and
# check-ins due inside them wait until they end, in each location's own zone.
DAISY_QUIET_HOURS = env_str("DAISY_QUIET_HOURS", "21:00-08:00")
# How many days a check-in link stays open after its check-in is due (it opens when the session
# starts): bounded by the session, not by when the link was made.
DAISY_CHECKIN_LINK_MAX_AGE_DAYS = env_int("DAISY_CHECKIN_LINK_MAX_AGE_DAYS", 14)
# DOMAIN.md 6.7: a clinical record is kept this many whole years from the client's last
# treatment before an erasure request may delete it (England's Records Management Code of
# Practice: 8 years for adults; US practice where no state rule applies: at least 10).
DAISY_RECORD_RETENTION_YEARS = env_int("DAISY_RECORD_RETENTION_YEARS", 8)
