"""REST authentication by ``Authorization: Token <key>`` against ``arena.models.ApiToken`` (hashed, expiring,
revocable)."""
from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        from arena.api_tokens import token_authenticate

        token = token_authenticate(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed("invalid, expired or revoked token")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("user inactive or deleted")
        return token.user, token
