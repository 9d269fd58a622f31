"""API tokens: create, list, revoke, rotate; revoke all of a user's tokens when the password changes."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from arena.errors import InvalidInput, NotFound
from arena.models import ApiToken

MAX_TOKENS_PER_USER = 50
MAX_EXPIRY_DAYS = 3650
LAST_USED_RESOLUTION = timedelta(minutes=1)  # "last used" is written at most once a minute per token


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once, never stored


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _expiry(expires_in_days) -> timezone.datetime | None:
    if expires_in_days in (None, ""):
        default = settings.ARENA_TOKEN_DEFAULT_DAYS
        return timezone.now() + timedelta(days=default) if default else None
    if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int) or not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise InvalidInput(f"expires_in_days must be a whole number of days from 1 to {MAX_EXPIRY_DAYS}, or empty "
                           f"for no expiry; got {expires_in_days!r}")
    return timezone.now() + timedelta(days=expires_in_days)


def token_create(*, user, name: str = "", expires_in_days: int | None = None) -> IssuedToken:
    name = (name or "").strip() or f"token {timezone.now():%Y-%m-%d %H:%M}"
    if len(name) > 100:
        raise InvalidInput("a token name is at most 100 characters")
    expires_at = _expiry(expires_in_days)
    if token_list(user=user).count() >= MAX_TOKENS_PER_USER:
        raise InvalidInput(f"at most {MAX_TOKENS_PER_USER} active tokens per user; revoke some first")
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:8], key_hash=token_hash(key),
                                    expires_at=expires_at)
    return IssuedToken(token=token, key=key)


def token_list(*, user) -> QuerySet[ApiToken]:
    """The user's tokens that still work (not revoked, not expired)."""
    from django.db.models import Q

    now = timezone.now()
    return ApiToken.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), user=user,
                                   revoked_at__isnull=True)


def token_get(*, user, token_id) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=token_id, revoked_at__isnull=True).first() if str(
        token_id).isdigit() else None
    if token is None:
        raise NotFound(f"no active token {token_id!r} of yours")
    return token


def token_revoke(*, user, token_id, reason: str = "revoked by its owner") -> ApiToken:
    token = token_get(user=user, token_id=token_id)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now(), revoked_reason=reason)
    token.refresh_from_db()
    return token


def token_rotate(*, user, token_id) -> IssuedToken:
    """Replace a token by a new key with the same name and lifetime; the old key stops working at once."""
    with transaction.atomic():
        old = token_revoke(user=user, token_id=token_id, reason="rotated")
        days = None
        if old.expires_at:
            days = max(1, round((old.expires_at - old.created_at) / timedelta(days=1)))
        return token_create(user=user, name=old.name, expires_in_days=days)


def tokens_revoke_all(*, user, reason: str) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now(),
                                                                           revoked_reason=reason)


def token_authenticate(*, key: str) -> ApiToken | None:
    """The live token with this key, or None; records when it was last used (at most once a minute)."""
    token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key)).first()
    now = timezone.now()
    if token is None or token.revoked_at or (token.expires_at and token.expires_at <= now):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def revoke_tokens_on_password_change(sender, instance, raw=False, **kwargs) -> None:
    """pre_save of the user model: a changed password hash revokes every API token of that user."""
    if raw or instance.pk is None:
        return
    old = type(instance).objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if old is not None and old != instance.password:
        tokens_revoke_all(user=instance, reason="password changed")
