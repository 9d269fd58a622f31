"""Settings for the test suite: arena.settings plus what makes tests fast and nothing else.

Used by pytest (pyproject.toml) and inherited by the Celery workers the integration tests start.
"""
from arena.settings import *  # noqa: F403

# Django's default PBKDF2 costs about a second per password on a shared 2-core machine, and every test user
# pays it; MD5 is unsafe for real passwords and fine for throw-away test users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
