"""Settings shared by every environment. Instance-specific values come from ``config.env``."""

from __future__ import annotations

import os

import dj_database_url

from modelworks.config.env import load_config

INSTANCE = load_config()
MODELWORKS_HOME = INSTANCE.home
MODELWORKS_ARTIFACTS_DIR = INSTANCE.artifacts_dir
MODELWORKS_DATA_DIR = INSTANCE.data_dir
MODELWORKS_PREDICTIONS_DIR = INSTANCE.predictions_dir

SECRET_KEY = INSTANCE.secret_key
DEBUG = False
ALLOWED_HOSTS = INSTANCE.allowed_hosts
CSRF_TRUSTED_ORIGINS = INSTANCE.csrf_trusted_origins

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "modelworks.core",
    "modelworks.connections",
    "modelworks.datasets",
    "modelworks.catalog",
    "modelworks.flows",
    "modelworks.scenarios",
    "modelworks.tracking",
    "modelworks.registry",
    "modelworks.lab",
    "modelworks.deployments",
    "modelworks.monitoring",
    "modelworks.governance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "modelworks.core.middleware.ContentSecurityPolicyMiddleware",
    "modelworks.core.middleware.PasswordChangeRequiredMiddleware",
    # Refuses (413) a request body announced as larger than MODELWORKS_MAX_UPLOAD_BYTES, unread.
    "modelworks.datasets.uploads.UploadSizeLimitMiddleware",
]

ROOT_URLCONF = "modelworks.config.urls"
WSGI_APPLICATION = "modelworks.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "modelworks.core.context.navigation",
            ],
        },
    },
]


def _databases(url: str) -> dict[str, dict[str, object]]:
    db = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web server read while the worker writes; IMMEDIATE transactions take the
        # write lock up front, so two writers queue on busy_timeout instead of failing mid-way.
        db["CONN_MAX_AGE"] = 600  # a new connection re-reads the schema (~2 ms): keep it between requests
        db["CONN_HEALTH_CHECKS"] = False
        db["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    return {"default": db}


DATABASES = _databases(INSTANCE.database_url)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
MODELWORKS_MAX_UPLOAD_BYTES = INSTANCE.max_upload_bytes
# The largest OpenLineage event POST /api/v1/lineage accepts, before and after gunzip (gzip bombs).
MODELWORKS_LINEAGE_MAX_EVENT_BYTES = 4 * 1024 * 1024
# Every uploaded file streams to MODELWORKS_HOME/uploads (never whole in memory) and the upload
# stops as soon as a file passes MODELWORKS_MAX_UPLOAD_BYTES (see modelworks.datasets.uploads).
FILE_UPLOAD_HANDLERS = ["modelworks.datasets.uploads.LimitedUploadHandler"]

# Login throttling: this many failures for one username or one address inside the window lock
# further attempts until the window has passed. Counted from the audit log, so it holds across
# every web process of the instance.
MODELWORKS_LOGIN_MAX_FAILURES = 5
MODELWORKS_LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60

# Jobs: a running job's lease is renewed by its worker every LEASE/3 seconds; a job whose lease has
# expired belongs to a dead worker and is re-queued (or failed once its attempts are used up).
MODELWORKS_JOB_LEASE_SECONDS = 30
# A running job asked to cancel gets this long to stop by itself before its process is stopped.
MODELWORKS_JOB_CANCEL_GRACE_SECONDS = 5
# On SIGTERM/SIGINT a worker lets running jobs finish for this long, then stops and re-queues them.
MODELWORKS_JOB_SHUTDOWN_GRACE_SECONDS = 20
# Every job type, kind → class. A domain app adds its own lines here (explicit: no import-time registry).
MODELWORKS_JOB_TYPES = {
    "core.self_check": "modelworks.core.jobs.builtin.SelfCheckJob",
    "core.diagnostic": "modelworks.core.jobs.builtin.DiagnosticJob",
    "datasets.import": "modelworks.datasets.jobs.ImportDatasetJob",
    "datasets.profile": "modelworks.datasets.jobs.ProfileVersionJob",
    "datasets.quality": "modelworks.datasets.jobs.CheckQualityJob",
    "flows.build": "modelworks.flows.jobs.BuildFlowJob",
    "flows.drop_tables": "modelworks.flows.jobs.DropTablesJob",
    "flows.lineage": "modelworks.flows.jobs.RecordLineageJob",
    "scenarios.run": "modelworks.scenarios.jobs.RunScenarioJob",
    "lab.train": "modelworks.lab.jobs.TrainModelJob",
    "lab.retrain": "modelworks.lab.retrain.RetrainModelJob",
    "monitoring.compute": "modelworks.monitoring.jobs.ComputeMonitorJob",
    "monitoring.backtest": "modelworks.monitoring.jobs.BacktestJob",
    "governance.value": "modelworks.governance.jobs.ComputeValueJob",
    "core.send_email": "modelworks.core.notify.jobs.SendNotificationJob",
}
# Functions every `modelworks worker` calls at most every MODELWORKS_PERIODIC_INTERVAL_SECONDS (no
# arguments; several workers may call them at once, so each must be safe to run concurrently).
MODELWORKS_PERIODIC_TASKS = [
    "modelworks.scenarios.scheduler.tick",
    "modelworks.tracking.artifacts.services.sweep_stale_uploads",
    "modelworks.monitoring.services.scheduling.tick",
    "modelworks.governance.services.value_schedule.tick",
    "modelworks.core.notify.reminders.tick",
]
MODELWORKS_PERIODIC_INTERVAL_SECONDS = 20
# Panels other apps add to a dataset's overview page (the datasets app imports none of them):
# dotted paths of functions (request, project, dataset) -> {"template": ..., "context": {...}} | None.
MODELWORKS_DATASET_PANELS = ["modelworks.flows.panels.dataset_flow_panel"]

# Scenarios (modelworks.scenarios). Job types a scenario's "Run a job" step may start (e.g.
# "lab.train" once it exists); empty: no such step can be saved.
MODELWORKS_FLOW_MAX_PARALLEL = INSTANCE.flow_max_parallel
MODELWORKS_FLOW_THREADS = INSTANCE.flow_threads
MODELWORKS_FLOW_MEMORY_LIMIT = INSTANCE.flow_memory_limit
MODELWORKS_FLOW_STEP_TIMEOUT = INSTANCE.flow_step_timeout
MODELWORKS_MAX_ARTIFACT_BYTES = INSTANCE.max_artifact_bytes
MODELWORKS_LAB_MAX_ROWS = INSTANCE.lab_max_rows
# The scoring service (modelworks serve-models) binds to MODELWORKS_BIND like the web server.
MODELWORKS_SERVING_PORT = INSTANCE.serving_port
MODELWORKS_SERVING_WORKERS = INSTANCE.serving_workers
MODELWORKS_SCORING_MAX_ROWS = INSTANCE.scoring_max_rows
MODELWORKS_SCORING_MAX_BODY_BYTES = INSTANCE.scoring_max_body_bytes
MODELWORKS_SERVING_METRICS_TOKEN = INSTANCE.serving_metrics_token

# Functions called before an alias of a registered model moves (registry.services.set_alias): each
# may refuse the move (raise a RegistryError) or return a warning kept with it. The governance
# sign-off adds its own here.
# TrueType fonts of the AI Act PDF documents (default: DejaVu Sans found on the system).
MODELWORKS_PDF_FONT = os.environ.get("MODELWORKS_PDF_FONT") or None
MODELWORKS_PDF_FONT_BOLD = os.environ.get("MODELWORKS_PDF_FONT_BOLD") or None

MODELWORKS_ALIAS_GATES: list[str] = ["modelworks.governance.services.signoff_gate.check_alias_move"]

MODELWORKS_SCENARIO_JOB_TYPES: list[str] = [
    "lab.train",
    "lab.retrain",
    "monitoring.compute",
    "governance.value",
]
# A scenario run waits for the jobs its steps start. If such a job is still queued after this many
# seconds (every worker slot is busy, e.g. with other scenario runs waiting too), the scenario's own
# process runs it, so scenarios can never deadlock a small pool of workers.
MODELWORKS_SCENARIO_INLINE_AFTER_SECONDS = 10
# Notifications make the only outbound calls of the product, and none by default:
# * webhooks go only to hosts on this allow-list (entries: "hooks.internal.example",
#   "*.corp.example" for any sub-domain, "10.0.0.0/8" or "192.0.2.7" for addresses); every address
#   the host resolves to is checked too. Plain http:// only when MODELWORKS_WEBHOOK_ALLOW_HTTP.
# * e-mail goes only through the SMTP server named by MODELWORKS_SMTP_HOST.
MODELWORKS_WEBHOOK_ALLOWLIST = INSTANCE.webhook_allowlist
MODELWORKS_WEBHOOK_ALLOW_HTTP = INSTANCE.webhook_allow_http
MODELWORKS_WEBHOOK_TIMEOUT_SECONDS = 10
# The address users reach this instance at (e.g. https://ai.example.org), for links in notifications.
MODELWORKS_PUBLIC_URL = INSTANCE.public_url
MODELWORKS_EMAIL_ENABLED = bool(INSTANCE.smtp_host)
# A promotion request or sign-off step still waiting after this many days e-mails the people it waits
# on again, then again every that many days (0: no reminders). See modelworks.core.notify.reminders.
MODELWORKS_NOTIFY_REMINDER_DAYS = os.environ.get("MODELWORKS_NOTIFY_REMINDER_DAYS") or 3
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = INSTANCE.smtp_host or "smtp.invalid"  # never contacted while MODELWORKS_EMAIL_ENABLED is off
EMAIL_PORT = INSTANCE.smtp_port
EMAIL_HOST_USER = INSTANCE.smtp_user
EMAIL_HOST_PASSWORD = INSTANCE.smtp_password
EMAIL_USE_TLS = INSTANCE.smtp_security == "starttls"
EMAIL_USE_SSL = INSTANCE.smtp_security == "ssl"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = INSTANCE.smtp_from or "modelworks@localhost"
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
# Static files are served by WhiteNoise straight from the installed apps (the vendored htmx and our
# CSS ship inside the package), so no install needs a collectstatic step and no STATIC_ROOT.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"modelworks": {"level": "INFO", "handlers": ["console"], "propagate": False}},
}

NINJA_PAGINATION_CLASS = "modelworks.core.api.pagination.Pagination"
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500
