"""Rate limits against password guessing. Counters live in the default cache, which production deployments
share across every gunicorn process and machine (REDIS_CACHE_URL), so a limit holds for the whole site."""
from __future__ import annotations

import hashlib

from rest_framework.throttling import SimpleRateThrottle


def _submitted_username(request) -> str:
    data = getattr(request, "data", None)
    if data is None or not hasattr(data, "get"):
        data = request.POST
    value = data.get("username", "") if hasattr(data, "get") else ""
    return value.strip().lower() if isinstance(value, str) else ""


class LoginRateThrottle(SimpleRateThrottle):
    """Login attempts per client address (``ARENA_LOGIN_RATE``)."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginUserRateThrottle(SimpleRateThrottle):
    """Login attempts per username, from any address (``ARENA_LOGIN_USER_RATE``): slows distributed guessing."""

    scope = "login_user"

    def get_cache_key(self, request, view):
        username = _submitted_username(request)
        if not username:
            return None
        return self.cache_format % {"scope": self.scope, "ident": hashlib.sha256(username.encode()).hexdigest()}


LOGIN_THROTTLES = (LoginRateThrottle, LoginUserRateThrottle)


def login_throttle_wait(request) -> float | None:
    """For non-DRF views (the login page): None if allowed, else the seconds to wait."""
    waits = []
    for throttle_class in LOGIN_THROTTLES:
        throttle = throttle_class()
        if not throttle.allow_request(request, None):
            waits.append(throttle.wait() or 60.0)
    return max(waits) if waits else None
