"""Errors that services raise for callers (API, pages, CLI) to turn into clear messages."""
from __future__ import annotations


class ArenaError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class InvalidInput(ArenaError):
    status_code = 400
    code = "invalid"


class NotFound(ArenaError):
    status_code = 404
    code = "not_found"


class Forbidden(ArenaError):
    status_code = 403
    code = "forbidden"


class Conflict(ArenaError):
    status_code = 409
    code = "conflict"


class TooLarge(ArenaError):
    status_code = 413
    code = "too_large"
