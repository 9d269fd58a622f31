"""The settings the tests run with, and Django's system checks (the test Celery workers skip them)."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.management import call_command


def test_django_system_checks_pass():
    call_command("check", fail_level="WARNING")


def test_tests_use_the_fast_password_hasher_and_it_still_checks_passwords():
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]  # arena.settings_test
    encoded = make_password("pw-alice-123")
    assert encoded.startswith("md5$")
    assert check_password("pw-alice-123", encoded) and not check_password("wrong", encoded)
