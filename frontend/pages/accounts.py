"""Account pages: a throttled login, API tokens (list, create, revoke, rotate) and password change."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from arena import api_tokens
from arena.api.throttles import login_throttle_wait
from arena.errors import ArenaError


class ThrottledLoginView(auth_views.LoginView):
    """Django's login page, with the same per-address and per-username limits as the token endpoint."""

    def post(self, request, *args, **kwargs):
        wait = login_throttle_wait(request)
        if wait is not None:
            form = self.get_form()
            form.errors.clear()
            response = self.render_to_response(self.get_context_data(
                form=form, throttled=f"Too many login attempts; try again in {int(wait) + 1} seconds."))
            response.status_code = 429
            response["Retry-After"] = str(int(wait) + 1)
            return response
        return super().post(request, *args, **kwargs)


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text="what the token is for, e.g. 'laptop CLI'")
    expires_in_days = forms.IntegerField(required=False, min_value=1, max_value=api_tokens.MAX_EXPIRY_DAYS,
                                         help_text="empty: never expires")


@login_required
def tokens_page(request):
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = api_tokens.token_create(user=request.user, name=form.cleaned_data["name"],
                                             expires_in_days=form.cleaned_data["expires_in_days"])
            new_key = issued.key
        except ArenaError as exc:
            form.add_error(None, exc.message)
    return render(request, "frontend/account_tokens.html", {
        "form": form, "tokens": api_tokens.token_list(user=request.user), "new_key": new_key,
    })


@login_required
@require_POST
def token_revoke_page(request, token_id: int):
    try:
        token = api_tokens.token_revoke(user=request.user, token_id=token_id)
        messages.success(request, f"Token {token.name!r} ({token.prefix}...) revoked.")
    except ArenaError as exc:
        messages.error(request, exc.message)
    return redirect("account-tokens")


@login_required
@require_POST
def token_rotate_page(request, token_id: int):
    try:
        issued = api_tokens.token_rotate(user=request.user, token_id=token_id)
    except ArenaError as exc:
        messages.error(request, exc.message)
        return redirect("account-tokens")
    return render(request, "frontend/account_tokens.html", {
        "form": TokenForm(), "tokens": api_tokens.token_list(user=request.user), "new_key": issued.key,
        "rotated": True,
    })
