"""API tokens over REST: log in for a token, list, create, revoke and rotate your tokens."""
from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from arena import api_tokens
from arena.api.throttles import LOGIN_THROTTLES
from arena.errors import InvalidInput
from arena.models import ApiToken


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at"]


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    expires_in_days = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                               max_value=api_tokens.MAX_EXPIRY_DAYS)


class LoginSerializer(TokenCreateSerializer):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False)


def _issued(issued: api_tokens.IssuedToken) -> dict:
    return {"token": issued.key, **TokenSerializer(issued.token).data}


class TokenLoginView(APIView):
    """``POST {username, password[, name, expires_in_days]}`` -> a new token (shown once)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = list(LOGIN_THROTTLES)

    @extend_schema(request=LoginSerializer, responses={200: TokenSerializer})
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise InvalidInput("Unable to log in with the given username and password.")
        issued = api_tokens.token_create(user=user, name=data.get("name") or "login",
                                         expires_in_days=data.get("expires_in_days"))
        return Response(_issued(issued))


class _TokenManagement(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "tokens"

    def get_throttles(self):
        return [ScopedRateThrottle()] if self.request.method != "GET" else []


class TokenListCreateView(_TokenManagement):
    @extend_schema(responses=TokenSerializer(many=True))
    def get(self, request):
        return Response(TokenSerializer(api_tokens.token_list(user=request.user), many=True).data)

    @extend_schema(request=TokenCreateSerializer, responses={201: TokenSerializer})
    def post(self, request):
        serializer = TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = api_tokens.token_create(user=request.user, name=serializer.validated_data.get("name", ""),
                                         expires_in_days=serializer.validated_data.get("expires_in_days"))
        return Response(_issued(issued), status=status.HTTP_201_CREATED)


class TokenRevokeView(_TokenManagement):
    @extend_schema(responses={204: None})
    def delete(self, request, token_id: int):
        api_tokens.token_revoke(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRotateView(_TokenManagement):
    @extend_schema(request=None, responses={200: TokenSerializer})
    def post(self, request, token_id: int):
        return Response(_issued(api_tokens.token_rotate(user=request.user, token_id=token_id)))
