"""Bad input is answered with a 400 that says what was wrong, never a 500 (pages, API and Dash alike).

* Query strings and urlencoded form fields holding NUL (PostgreSQL refuses NUL in text) are refused before
  any view runs, naming the parameter.
* Dash callback bodies (``.../_dash-update-component``) must be a JSON object with ``output`` and
  ``inputs``, nested no deeper than ARENA_MAX_JSON_DEPTH; anything else is refused before Dash sees it.
* Whatever still slips through as one of the errors bad input causes (RecursionError from deep nesting,
  lone UTF-16 surrogates that cannot be encoded, NUL refused by PostgreSQL, a malformed Dash callback) is
  turned into a 400 here. Messages are ASCII-escaped, so even a lone surrogate cannot break the error page.
"""
from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse

from arena.jsonsafe import JsonTooDeep, loads_limited

logger = logging.getLogger(__name__)

DASH_PREFIX = "/django_plotly_dash/"
DASH_UPDATE_SUFFIX = "/_dash-update-component"
_FORM_TYPES = ("application/x-www-form-urlencoded",)
# What Dash raises for a well-formed body naming unknown outputs/inputs or carrying values of the wrong type.
_DASH_INPUT_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)


def _escape(text: str) -> str:
    return text.encode("ascii", errors="backslashreplace").decode("ascii")


def _nul_problem(pairs, *, where: str) -> str | None:
    for key, values in pairs:
        if "\x00" in key or any("\x00" in value for value in values):
            return f"{where} {_escape(key)!r} contains a NUL (0x00) character, which text values may not hold"
    return None


def bad_input_message(exc: BaseException) -> str | None:
    """The user-facing message for an exception that bad input causes, or None for a genuine server error."""
    if isinstance(exc, (RecursionError, JsonTooDeep)):
        return f"the input is nested too deeply (the limit is {settings.ARENA_MAX_JSON_DEPTH} levels)"
    if isinstance(exc, UnicodeEncodeError) and "surrogate" in str(exc.reason):
        return "the input contains a lone UTF-16 surrogate (e.g. \\ud800), which is not valid Unicode text"
    if isinstance(exc, UnicodeDecodeError):
        return "the input is not valid UTF-8 text"
    if isinstance(exc, DataError) and "NUL" in str(exc):
        return "text values may not contain NUL (0x00) characters"
    return None


def is_dash_update(request: HttpRequest) -> bool:
    return request.path.endswith(DASH_UPDATE_SUFFIX)


def _dash_body_problem(request: HttpRequest) -> str | None:
    if request.method != "POST":
        return "Dash callbacks are POST requests"
    try:
        body = loads_limited(request.body.decode("utf-8"), max_depth=settings.ARENA_MAX_JSON_DEPTH)
    except JsonTooDeep as exc:
        return f"the Dash callback body is {exc}"
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "the Dash callback body must be JSON (UTF-8)"
    if not isinstance(body, dict) or not isinstance(body.get("output"), str) or not isinstance(body.get("inputs"), list):
        return "the Dash callback body must be a JSON object with 'output' (a string) and 'inputs' (a list)"
    return None


def _bad_request(request: HttpRequest, message: str, *, status: int = 400) -> HttpResponse:
    message = _escape(message)
    if request.path.startswith("/api/") or is_dash_update(request):
        return JsonResponse({"error": message, "code": "invalid"}, status=status)
    return HttpResponse(f"Bad request: {message}\n", status=status, content_type="text/plain; charset=utf-8")


class BadInputMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = _nul_problem(request.GET.lists(), where="query parameter")
        if problem is None and request.method == "POST" and request.content_type in _FORM_TYPES:
            problem = _nul_problem(request.POST.lists(), where="form field")
        if problem is None and is_dash_update(request):
            problem = _dash_body_problem(request)
        if problem is not None:
            return _bad_request(request, problem)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        message = bad_input_message(exception)
        if message is not None:
            return _bad_request(request, message)
        if request.path.startswith(DASH_PREFIX) and isinstance(exception, NotImplementedError):
            return _bad_request(request, "django-plotly-dash does not serve this route", status=404)  # e.g. _dash-routes
        if is_dash_update(request):
            if isinstance(exception, ObjectDoesNotExist):
                return _bad_request(request, "no such Dash app", status=404)
            if isinstance(exception, _DASH_INPUT_ERRORS):
                # The body has the right shape, but a callback choked on the values in it: the caller's input.
                logger.warning("Dash callback refused its input: %s", _escape(repr(exception)), exc_info=exception)
                return _bad_request(request, f"the Dash callback could not use its inputs ({type(exception).__name__})")
        return None
